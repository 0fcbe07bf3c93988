// Package views holds Pinhole's server-rendered pages as templ components.
//
// Components take plain view-model structs (never database rows or identity
// types), so a page can be rendered and tested without a running app. Every
// page is wrapped in Layout, which takes the page body as templ children.
package views
