// Package static holds Pinhole's stylesheets, scripts and images, embedded into
// the binary so the app ships as one file and serves the exact assets it was
// built with.
package static

import "embed"

// FS is the embedded asset tree, served by the app under /static/:
// stylesheets, images, our scripts (ES modules, no build step) and the
// third-party code they import, vendored with its license under vendor/.
//
//go:embed *.css *.svg *.js vendor
var FS embed.FS
