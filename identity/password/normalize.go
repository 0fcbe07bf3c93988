package password

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalize puts a password into Unicode NFKC, the form it is hashed,
// measured and looked up in (see the package documentation for why): an
// accent typed as a separate combining mark joins its letter, and
// compatibility variants such as full-width letters and ligatures become
// their plain equivalents. ASCII is left as it is.
//
// The NFKC tables come from golang.org/x/text rather than being written
// here: Unicode normalisation is exactly the fiddly, data-heavy code that
// belongs in a maintained library.
func normalize(password string) string {
	return norm.NFKC.String(password)
}

// blocklistKey is the form blocklist entries are stored in and the form
// Contains looks its argument up in: normalised, lower case, without
// surrounding white space, so "Password1234 " and "PASSWORD1234" are as
// common as "password1234". internal/genblocklist applies the same steps
// when it builds the list, and LoadBlocklist checks that it did.
func blocklistKey(password string) string {
	return strings.TrimSpace(strings.ToLower(normalize(password)))
}
