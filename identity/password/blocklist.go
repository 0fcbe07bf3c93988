package password

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
)

// blocklistGz is the shipped list of common and breached passwords: the
// entries in blocklistKey form, at least 8 characters long, sorted bytewise,
// one per line, gzip-compressed. BLOCKLIST_SOURCES.md says where it comes
// from and how internal/genblocklist rebuilds it.
//
//go:embed blocklist.txt.gz
var blocklistGz []byte

// Blocklist is a read-only set of common and breached passwords, matched
// case-insensitively. It is safe for concurrent use.
//
// It keeps the decompressed list as one string plus the offset of each
// entry, and finds entries by binary search. Measured on the shipped list of
// about 480,000 entries: 6.7 MB in two allocations that the garbage
// collector need not scan, and about 0.25 µs per lookup. A []string would
// take 13 MB and a map[string]struct{} about 41 MB with half a million
// pointers to scan, for lookups of about 0.08 µs: a gain that vanishes next
// to the tens of milliseconds of the hash computed at the same sign-up.
type Blocklist struct {
	// data is the list as shipped: sorted entries, each ending in '\n'.
	data string
	// starts holds the offset in data of each entry, in order, and then
	// len(data), so entry i is data[starts[i]:starts[i+1]-1].
	starts []uint32
}

// LoadBlocklist decompresses and checks the embedded blocklist. Each call
// builds a new copy; most callers want the shared one from DefaultBlocklist.
func LoadBlocklist() (*Blocklist, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blocklistGz))
	if err != nil {
		return nil, fmt.Errorf("password: load blocklist: %w", err)
	}
	b, err := readBlocklist(zr)
	if err != nil {
		return nil, fmt.Errorf("password: load blocklist: %w", err)
	}
	return b, nil
}

// defaultBlocklist loads the embedded list on first use only, so programs
// that never check a new password never pay for it.
var defaultBlocklist = sync.OnceValue(func() *Blocklist {
	b, err := LoadBlocklist()
	if err != nil {
		// The file is compiled in and the package's tests load it, so this
		// is a broken build, not a runtime condition to handle.
		panic(err)
	}
	return b
})

// DefaultBlocklist returns the embedded blocklist, decompressed once and
// shared by every caller. The first call takes about 0.1 s and keeps about
// 6.7 MB.
func DefaultBlocklist() *Blocklist {
	return defaultBlocklist()
}

// readBlocklist reads a list in the shipped format. It refuses entries that
// are empty, not in blocklistKey form, or out of order, because binary
// search silently misses entries in an unsorted list, and an entry that is
// not normalised the way Contains normalises its argument can never match.
func readBlocklist(r io.Reader) (*Blocklist, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// An exact-size copy: raw grew by doubling and becomes garbage now.
	data := string(raw)
	if len(data) > math.MaxUint32 {
		return nil, fmt.Errorf("list of %d bytes is too large for 32-bit offsets", len(data))
	}
	b := &Blocklist{data: data, starts: make([]uint32, 0, strings.Count(data, "\n")+1)}
	prev := ""
	for start := 0; start < len(data); {
		end := strings.IndexByte(data[start:], '\n')
		if end < 0 {
			return nil, fmt.Errorf("entry %d: missing final newline", len(b.starts)+1)
		}
		entry := data[start : start+end]
		switch {
		case entry == "":
			return nil, fmt.Errorf("entry %d: empty", len(b.starts)+1)
		case blocklistKey(entry) != entry:
			return nil, fmt.Errorf("entry %d: not normalised (NFKC, lower case, trimmed)", len(b.starts)+1)
		case entry <= prev:
			return nil, fmt.Errorf("entry %d: not sorted and distinct", len(b.starts)+1)
		}
		b.starts = append(b.starts, uint32(start))
		prev = entry
		start += end + 1
	}
	b.starts = append(b.starts, uint32(len(data)))
	return b, nil
}

// Contains reports whether password is on the list, ignoring case and
// surrounding white space and after the same Unicode normalisation as
// hashing. The shipped list holds no entries shorter than 8 characters
// (Policy rejects those by length alone), so Contains reports false for
// them.
func (b *Blocklist) Contains(password string) bool {
	key := blocklistKey(password)
	n := b.Len()
	i := sort.Search(n, func(i int) bool { return b.entry(i) >= key })
	return i < n && b.entry(i) == key
}

// Len returns the number of entries.
func (b *Blocklist) Len() int {
	return max(len(b.starts)-1, 0) // the zero Blocklist is empty
}

// entry returns entry i, without its newline.
func (b *Blocklist) entry(i int) string {
	return b.data[b.starts[i] : b.starts[i+1]-1]
}
