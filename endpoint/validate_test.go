package endpoint

import (
	"strings"
	"testing"
)

func TestValidateProject(t *testing.T) {
	for _, ok := range []string{
		"abc", "my-project", "k8s-log-c0ffee", "123", "a-b", "0a0",
		strings.Repeat("a", 63),
	} {
		if err := ValidateProject(ok); err != nil {
			t.Errorf("ValidateProject(%q): %v", ok, err)
		}
	}
	for _, tt := range []struct{ in, wantErr string }{
		{"", `invalid project name "": the name is empty`},
		{"ab", "project names are 3 to 63 characters long, this one has 2"},
		{strings.Repeat("a", 64), "project names are 3 to 63 characters long, this one has 64"},
		{"My-Project", `project names are lower-case (use "my-project")`},
		{"my_project", `project names contain only lower-case letters, digits and hyphens, found '_' at byte 2`},
		{"my.project", `found '.' at byte 2`},
		{"my project", `found ' ' at byte 2`},
		{"projé", `found 'é' at byte 4`},
		{"-project", "project names start and end with a lower-case letter or digit"},
		{"project-", "project names start and end with a lower-case letter or digit"},
	} {
		checkErr(t, "ValidateProject("+tt.in+")", ValidateProject(tt.in), tt.wantErr)
	}
}

func TestValidateLogstore(t *testing.T) {
	for _, ok := range []string{
		"ab", "app", "app-log", "app_log", "a_b-c", "00", "access_log_2024",
		strings.Repeat("z", 63),
	} {
		if err := ValidateLogstore(ok); err != nil {
			t.Errorf("ValidateLogstore(%q): %v", ok, err)
		}
	}
	for _, tt := range []struct{ in, wantErr string }{
		{"", `invalid logstore name "": the name is empty`},
		{"a", "logstore names are 2 to 63 characters long, this one has 1"},
		{strings.Repeat("z", 64), "logstore names are 2 to 63 characters long, this one has 64"},
		{"App", `logstore names are lower-case (use "app")`},
		{"app log", `logstore names contain only lower-case letters, digits, "_" and "-", found ' ' at byte 3`},
		{"app.log", `found '.' at byte 3`},
		{"app.json", `pass the logstore name "app" without the ".json" topic suffix`},
		{"_app", "logstore names start and end with a lower-case letter or digit"},
		{"app-", "logstore names start and end with a lower-case letter or digit"},
		{"app_", "logstore names start and end with a lower-case letter or digit"},
	} {
		checkErr(t, "ValidateLogstore("+tt.in+")", ValidateLogstore(tt.in), tt.wantErr)
	}
}

func TestValidateRegion(t *testing.T) {
	for _, ok := range []string{
		"cn-hangzhou", "cn-shanghai", "ap-southeast-1", "us-west-1", "eu-central-1",
		"me-east-1", "cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-north-2-gov-1",
		"cn-hangzhou-finance", "rus-west-1",
	} {
		if err := ValidateRegion(ok); err != nil {
			t.Errorf("ValidateRegion(%q): %v", ok, err)
		}
	}
	for _, tt := range []struct{ in, wantErr string }{
		{"", `invalid region id "": the region id is empty: pass the region of the project, such as cn-hangzhou`},
		{strings.Repeat("a-", 32) + "a", "region ids are at most 63 characters long, this one has 65"},
		{"cn-hangzhou.log.aliyuncs.com", "a region id has no dots"},
		{"CN-Hangzhou", `region ids are lower-case (use "cn-hangzhou")`},
		{"cn-hangzhou-intranet", `the "-intranet" suffix selects the network, not the region: pass "cn-hangzhou" and endpoint.Intranet`},
		{"cn_hangzhou", `region ids contain only lower-case letters, digits and hyphens, found '_' at byte 2`},
		{"cn hangzhou", `found ' ' at byte 2`},
		{"mars", "region ids have at least two hyphen-separated words"},
		{"hangzhou", `use the id of that region, "cn-hangzhou"`},
		{"China (Hangzhou)", `use the id of that region, "cn-hangzhou"`},
		{"singapore", `use the id of that region, "ap-southeast-1"`},
		{"China (Nanjing - Local Region)", `use the id of that region, "cn-nanjing"`},
		{"CN_Hangzhou", `found '_' at byte 2`},
		{"Cn-Hangzhou-Intranet", `pass "cn-hangzhou" and endpoint.Intranet`},
		{"-intranet", `pass the region id, such as cn-hangzhou`},
		{"cn--hangzhou", "region ids are words separated by single hyphens"},
		{"-cn-hangzhou", "region ids are words separated by single hyphens"},
		{"cn-hangzhou-", "region ids are words separated by single hyphens"},
		{"1-hangzhou", "region ids start with letters"},
		{"c1-hangzhou", "region ids start with letters"},
	} {
		checkErr(t, "ValidateRegion("+tt.in+")", ValidateRegion(tt.in), tt.wantErr)
	}
}
