package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// checkReference checks that ref is an absolute URI with a lowercase
// scheme, something after it, no user information, no query parameter
// named like a credential, and no part that looks like a secret value. The
// message never holds the reference or any part of it, since a reference
// that fails these checks may carry credentials by mistake.
func checkReference(ref string) error {
	const want = "want a URI such as vault://kv/app#field, env://NAME or file:///path"
	if rule := detectValue(ref); rule != "" {
		return fmt.Errorf("%w: it looks like a secret value itself (rule %s)", ErrInvalidReference, rule)
	}
	// url.Parse lowercases the scheme, so it is checked as written.
	scheme, _, ok := strings.Cut(ref, ":")
	switch {
	case !ok || !schemeRE.MatchString(strings.ToLower(scheme)):
		return fmt.Errorf("%w: no scheme (%s)", ErrInvalidReference, want)
	case !schemeRE.MatchString(scheme):
		return fmt.Errorf("%w: the scheme is not lowercase (%s)", ErrInvalidReference, want)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Errorf("%w: not a URI (%s)", ErrInvalidReference, want)
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("%w: it carries user information; a reference names a secret, it never holds credentials", ErrInvalidReference)
	case u.Host == "" && u.Path == "" && u.Opaque == "":
		return fmt.Errorf("%w: it names nothing after the scheme", ErrInvalidReference)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: malformed query", ErrInvalidReference)
	}
	for _, k := range slices.Sorted(maps.Keys(query)) {
		if rule := detectName(k); rule != "" {
			return fmt.Errorf("%w: a query parameter is named like a credential (rule %s)", ErrInvalidReference, rule)
		}
	}
	return nil
}

// shownRef is ref as an error may show it: ref itself if it is a valid
// reference, otherwise only a note, since it may hold credentials.
func shownRef(ref string) string {
	if checkReference(ref) != nil {
		return "(invalid reference, not shown)"
	}
	return ref
}
