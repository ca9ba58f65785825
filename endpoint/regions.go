package endpoint

import (
	"fmt"
	"strings"
)

// region is an SLS region: its id and the name the console shows.
type region struct{ id, name string }

// regions are the SLS regions listed on the SLS "Endpoints" and "Regions"
// pages when this list was written. It only serves hints: a region that is
// not in it (one opened later) is accepted everywhere, with a warning
// (Endpoint.Warning).
var regions = []region{
	{"cn-qingdao", "China (Qingdao)"},
	{"cn-beijing", "China (Beijing)"},
	{"cn-zhangjiakou", "China (Zhangjiakou)"},
	{"cn-huhehaote", "China (Hohhot)"},
	{"cn-wulanchabu", "China (Ulanqab)"},
	{"cn-hangzhou", "China (Hangzhou)"},
	{"cn-shanghai", "China (Shanghai)"},
	{"cn-nanjing", "China (Nanjing - Local Region)"},
	{"cn-fuzhou", "China (Fuzhou - Local Region)"},
	{"cn-shenzhen", "China (Shenzhen)"},
	{"cn-heyuan", "China (Heyuan)"},
	{"cn-guangzhou", "China (Guangzhou)"},
	{"cn-chengdu", "China (Chengdu)"},
	{"cn-hongkong", "China (Hong Kong)"},
	{"ap-southeast-1", "Singapore"},
	{"ap-southeast-2", "Australia (Sydney)"},
	{"ap-southeast-3", "Malaysia (Kuala Lumpur)"},
	{"ap-southeast-5", "Indonesia (Jakarta)"},
	{"ap-southeast-6", "Philippines (Manila)"},
	{"ap-southeast-7", "Thailand (Bangkok)"},
	{"ap-south-1", "India (Mumbai)"},
	{"ap-northeast-1", "Japan (Tokyo)"},
	{"ap-northeast-2", "South Korea (Seoul)"},
	{"us-west-1", "US (Silicon Valley)"},
	{"us-east-1", "US (Virginia)"},
	{"eu-central-1", "Germany (Frankfurt)"},
	{"eu-west-1", "UK (London)"},
	{"me-east-1", "UAE (Dubai)"},
	{"me-central-1", "SAU (Riyadh)"},
	{"cn-hangzhou-finance", "China East 1 Finance"},
	{"cn-shanghai-finance-1", "China East 2 Finance"},
	{"cn-shenzhen-finance-1", "China South 1 Finance"},
	{"cn-beijing-finance-1", "China North 2 Finance"},
	{"cn-north-2-gov-1", "China North 2 Ali Gov 1"},
}

// regionNamed returns the id of the region that s names: its console name
// ("China (Hangzhou)") or the city in it ("Hangzhou"), in any case and
// spacing.
func regionNamed(s string) (string, bool) {
	key := letters(s)
	if key == "" {
		return "", false
	}
	for _, r := range regions {
		name, city, _ := strings.Cut(r.name, "(")
		if city == "" {
			city = name
		}
		city, _, _ = strings.Cut(city, " - ") // "Nanjing - Local Region"
		if key == letters(r.name) || key == letters(city) {
			return r.id, true
		}
	}
	return "", false
}

// letters returns the lower-case letters and digits of s.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case isLowerAlnum(r):
			return r
		}
		return -1
	}, s)
}

// knownRegion reports whether id is in regions and, if not, the known id
// nearest to it by edit distance.
func knownRegion(id string) (closest string, known bool) {
	best := -1
	for _, r := range regions {
		if r.id == id {
			return id, true
		}
		if d := distance(id, r.id); best < 0 || d < best {
			best, closest = d, r.id
		}
	}
	return closest, false
}

// regionWarning returns a warning for a valid region id that is not a known
// SLS region, naming the closest known one, or "".
func regionWarning(id string) string {
	closest, known := knownRegion(id)
	if known {
		return ""
	}
	return fmt.Sprintf("endpoint: region %q is not an SLS region this SDK knows: did you mean %q? (a region opened after this release works as it is; then ignore this warning)", id, closest)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(b)]
}
