package config

import (
	"fmt"
	"net/url"
	"regexp"
)

var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// checkReference checks that ref is an absolute URI with a lowercase
// scheme, something after it, and no user information. The message never
// holds the reference, which may carry credentials by mistake.
func checkReference(ref string) error {
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Errorf("%w: not a URI", ErrInvalidReference)
	}
	switch {
	case u.Scheme == "":
		return fmt.Errorf("%w: no scheme (want a URI such as vault://kv/app#field, env://NAME or file:///path)", ErrInvalidReference)
	case !schemeRE.MatchString(u.Scheme):
		return fmt.Errorf("%w: scheme %q is not lowercase letters, digits, '+', '-' or '.'", ErrInvalidReference, u.Scheme)
	case u.User != nil:
		return fmt.Errorf("%w: it carries user information; a reference names a secret, it never holds credentials", ErrInvalidReference)
	case u.Host == "" && u.Path == "" && u.Opaque == "":
		return fmt.Errorf("%w: %s: reference names nothing", ErrInvalidReference, u.Scheme)
	}
	if rule := detectValue(ref); rule != "" {
		return fmt.Errorf("%w: it looks like a secret value itself (rule %s)", ErrInvalidReference, rule)
	}
	return nil
}
