package endpoint

import (
	"fmt"
	"strings"
)

// ValidateProject reports whether name is a valid SLS project name: 3 to 63
// characters, only lower-case letters, digits and hyphens, starting and
// ending with a letter or digit. The error names the broken rule.
func ValidateProject(name string) error {
	if rule := checkName(name, 3, 63, "-", "project names"); rule != "" {
		return fmt.Errorf("endpoint: invalid project name %q: %s", name, rule)
	}
	return nil
}

// ValidateLogstore reports whether name is a valid SLS logstore name: 2 to
// 63 characters, only lower-case letters, digits, "_" and "-", starting and
// ending with a letter or digit. The error names the broken rule.
//
// A Kafka topic such as "app.json" is not a logstore name; the logstore is
// "app".
func ValidateLogstore(name string) error {
	if base, ok := strings.CutSuffix(name, ".json"); ok && checkName(base, 2, 63, "_-", "") == "" {
		return fmt.Errorf("endpoint: invalid logstore name %q: pass the logstore name %q without the \".json\" topic suffix", name, base)
	}
	if rule := checkName(name, 2, 63, "_-", "logstore names"); rule != "" {
		return fmt.Errorf("endpoint: invalid logstore name %q: %s", name, rule)
	}
	return nil
}

// ValidateRegion reports whether id looks like an Alibaba Cloud region id:
// lower-case, hyphen-separated words of letters and digits, the first of
// them letters, such as "cn-hangzhou", "ap-southeast-1" or
// "cn-shanghai-finance-1". It rejects SLS endpoints and the "-intranet"
// suffix, which selects the network rather than the region. It does not
// check that the region exists.
func ValidateRegion(id string) error {
	if rule := checkRegion(id); rule != "" {
		return fmt.Errorf("endpoint: invalid region id %q: %s", id, rule)
	}
	return nil
}

// checkName returns the first rule name breaks, or "" if it is valid. extra
// holds the punctuation allowed besides lower-case letters and digits; what
// is the subject of the rule sentences ("project names"). Upper-case letters
// are reported last, with the lower-case name to use, so that the name
// suggested is always valid.
func checkName(name string, minLen, maxLen int, extra, what string) string {
	allowed := "lower-case letters, digits and hyphens"
	if strings.Contains(extra, "_") {
		allowed = `lower-case letters, digits, "_" and "-"`
	}
	switch {
	case name == "":
		return "the name is empty"
	case len(name) < minLen || len(name) > maxLen:
		return fmt.Sprintf("%s are %d to %d characters long, this one has %d", what, minLen, maxLen, len(name))
	}
	upper := false
	for i, r := range name {
		switch {
		case isLowerAlnum(r), strings.ContainsRune(extra, r):
		case r >= 'A' && r <= 'Z':
			upper = true
		default:
			return fmt.Sprintf("%s contain only %s, found %q at byte %d", what, allowed, r, i)
		}
	}
	lower := strings.ToLower(name) // ASCII only by now: same length
	if !isLowerAlnum(rune(lower[0])) || !isLowerAlnum(rune(lower[len(lower)-1])) {
		return fmt.Sprintf("%s start and end with a lower-case letter or digit", what)
	}
	if upper {
		return fmt.Sprintf("%s are lower-case (use %q)", what, lower)
	}
	return ""
}

// checkRegion returns the first rule id breaks, or "" if it is valid. Like
// checkName, it suggests only ids that are valid; for the name of a known
// region ("China (Hangzhou)"), that region's id.
func checkRegion(id string) string {
	rule := regionRule(id)
	if rule != "" {
		if known, ok := regionNamed(id); ok {
			return fmt.Sprintf("use the id of that region, %q", known)
		}
	}
	return rule
}

// regionExample ends the rules that suggest no id of their own.
const regionExample = "such as cn-hangzhou, ap-southeast-1 or cn-shanghai-finance-1"

func regionRule(id string) string {
	const example = regionExample
	switch {
	case id == "":
		return "the region id is empty: pass the region of the project, " + example
	case len(id) > 63:
		return fmt.Sprintf("region ids are at most 63 characters long, this one has %d", len(id))
	case strings.Contains(id, "."):
		return "a region id has no dots: pass only the region, " + example + ", or call endpoint.FromSLS with the SLS endpoint"
	}
	if lower := strings.ToLower(id); lower != id {
		if rule := regionRule(lower); rule != "" {
			return rule
		}
		return fmt.Sprintf("region ids are lower-case (use %q)", lower)
	}
	if r, ok := strings.CutSuffix(id, intranetSuffix); ok {
		if regionRule(r) != "" {
			return fmt.Sprintf("the %q suffix selects the network, not the region: pass the region id, %s, and endpoint.Intranet", intranetSuffix, example)
		}
		return fmt.Sprintf("the %q suffix selects the network, not the region: pass %q and endpoint.Intranet", intranetSuffix, r)
	}
	for i, r := range id {
		if !isLowerAlnum(r) && r != '-' {
			return fmt.Sprintf("region ids contain only lower-case letters, digits and hyphens, found %q at byte %d", r, i)
		}
	}
	words := strings.Split(id, "-")
	if len(words) < 2 {
		return "region ids have at least two hyphen-separated words, " + example
	}
	for _, w := range words {
		if w == "" {
			return "region ids are words separated by single hyphens, " + example
		}
	}
	for _, r := range words[0] {
		if r < 'a' || r > 'z' {
			return "region ids start with letters, " + example
		}
	}
	return ""
}

func isLowerAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }
