package endpoint

import (
	"regexp"
	"strings"
	"testing"
)

// The region table is consistent: every id is valid and appears once, and
// every console name leads back to its id.
func TestRegionTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range regions {
		if err := ValidateRegion(r.id); err != nil {
			t.Errorf("region %q: %v", r.id, err)
		}
		if seen[r.id] {
			t.Errorf("region %q listed twice", r.id)
		}
		seen[r.id] = true
		if id, ok := regionNamed(r.name); !ok || id != r.id {
			t.Errorf("regionNamed(%q) = %q, %v; want %q", r.name, id, ok, r.id)
		}
		if w := regionWarning(r.id); w != "" {
			t.Errorf("known region %q has a warning: %s", r.id, w)
		}
	}
}

// Every name an error suggests is itself valid.
func TestSuggestionsAreValid(t *testing.T) {
	suggested := regexp.MustCompile(`(?:use|pass|pass the logstore name) "([^"]*)"|region, "([^"]*)"`)
	check := func(what, in string, err error, validate func(string) error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s(%q): no error", what, in)
			return
		}
		for _, m := range suggested.FindAllStringSubmatch(err.Error(), -1) {
			s := m[1] + m[2]
			if verr := validate(s); verr != nil {
				t.Errorf("%s(%q) suggests %q, which is invalid: %v\n(error: %v)", what, in, s, verr, err)
			}
		}
	}
	names := []string{
		"App Logs", "App-Logs", "APP", "-App", "App-", "App_", "My_Project", "My Project", "Ab", "A",
		"App.json", "App.Json", "my.project", "Ünicode", "App\tLogs",
	}
	for _, n := range names {
		check("ValidateLogstore", n, ValidateLogstore(n), ValidateLogstore)
		check("ValidateProject", n, ValidateProject(n), ValidateProject)
	}
	regionsIn := []string{
		"China (Hangzhou)", "CN-HANGZHOU", "CN_Hangzhou", "Cn-Hangzhou-Intranet", "-intranet",
		"hangzhou", "CN-Hangzhou.log.aliyuncs.com", "cn-hangzhou-", "X-Intranet", "Hong Kong",
	}
	for _, r := range regionsIn {
		check("ValidateRegion", r, ValidateRegion(r), ValidateRegion)
	}
	// "App Logs" gets no suggestion: lower-casing it does not make it valid.
	if err := ValidateLogstore("App Logs"); strings.Contains(err.Error(), "use ") {
		t.Errorf("ValidateLogstore(%q) suggests a name: %v", "App Logs", err)
	}
}

func TestEndpointWarning(t *testing.T) {
	mustFor := func(region string, n Network) Endpoint {
		t.Helper()
		e, err := For("my-project", region, n)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tt := range []struct {
		e    Endpoint
		want string // "" for no warning
	}{
		{mustFor("cn-hangzhou", Public), ""},
		{mustFor("cn-shanghai-finance-1", Intranet), ""},
		{mustFor("cn-hangzou", Public), `region "cn-hangzou" is not an SLS region this SDK knows: did you mean "cn-hangzhou"?`},
		{mustFor("ap-southeast-9", Intranet), `region "ap-southeast-9" is not an SLS region this SDK knows: did you mean "ap-southeast-1"?`},
		{Endpoint{"cn-hangzou.log.aliyuncs.com", 10012}, `did you mean "cn-hangzhou"?`},
		{Endpoint{"127.0.0.1", 9093}, ""},
		{Endpoint{"sls-kafka.privatelink.example", 10012}, ""},
		{Endpoint{"my-project.cn-hangzhou.log.aliyuncs.con", 10012}, `host "my-project.cn-hangzhou.log.aliyuncs.con" is not an SLS endpoint: did you mean my-project.cn-hangzhou.log.aliyuncs.com?`},
	} {
		got := tt.e.Warning()
		switch {
		case tt.want == "" && got != "":
			t.Errorf("%v.Warning() = %q, want none", tt.e, got)
		case tt.want != "" && !strings.Contains(got, tt.want):
			t.Errorf("%v.Warning() = %q, want it to contain %q", tt.e, got, tt.want)
		case got != "" && !strings.HasPrefix(got, "endpoint: "):
			t.Errorf("%v.Warning() = %q lacks the package prefix", tt.e, got)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"cn-hangzou", "cn-hangzhou", 1}, {"log.aliyuncs.con", "log.aliyuncs.com", 1},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
