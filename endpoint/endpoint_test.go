package endpoint

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFor(t *testing.T) {
	tests := []struct {
		project, region string
		network         Network
		want            string
	}{
		{"my-project", "cn-hangzhou", Public, "my-project.cn-hangzhou.log.aliyuncs.com:10012"},
		{"my-project", "cn-hangzhou", Intranet, "my-project.cn-hangzhou-intranet.log.aliyuncs.com:10011"},
		{"abc", "ap-southeast-1", Public, "abc.ap-southeast-1.log.aliyuncs.com:10012"},
		{"p01", "cn-shanghai-finance-1", Intranet, "p01.cn-shanghai-finance-1-intranet.log.aliyuncs.com:10011"},
		{"k8s-log-c0ffee", "cn-north-2-gov-1", Public, "k8s-log-c0ffee.cn-north-2-gov-1.log.aliyuncs.com:10012"},
	}
	for _, tt := range tests {
		got, err := For(tt.project, tt.region, tt.network)
		if err != nil {
			t.Errorf("For(%q, %q, %v): %v", tt.project, tt.region, tt.network, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("For(%q, %q, %v) = %s, want %s", tt.project, tt.region, tt.network, got, tt.want)
		}
	}
}

func TestForRejects(t *testing.T) {
	tests := []struct {
		project, region string
		network         Network
		wantErr         string
	}{
		{"", "cn-hangzhou", Public, `invalid project name "": the name is empty`},
		{"My-Project", "cn-hangzhou", Public, `project names are lower-case (use "my-project")`},
		{"my-project", "", Public, `invalid region id "": the region id is empty`},
		{"my-project", "cn-hangzhou-intranet", Intranet, `pass "cn-hangzhou" and endpoint.Intranet`},
		{"my-project", "cn-hangzhou.log.aliyuncs.com", Public, "call endpoint.FromSLS"},
		{"my-project", "cn-hangzhou", Network(7), "unknown network Network(7): use endpoint.Public or endpoint.Intranet"},
	}
	for _, tt := range tests {
		_, err := For(tt.project, tt.region, tt.network)
		checkErr(t, "For("+tt.project+", "+tt.region+")", err, tt.wantErr)
	}
}

func TestFromSLS(t *testing.T) {
	const (
		pub  = "my-project.cn-hangzhou.log.aliyuncs.com:10012"
		priv = "my-project.cn-hangzhou-intranet.log.aliyuncs.com:10011"
	)
	tests := []struct {
		in, want string
	}{
		{"cn-hangzhou.log.aliyuncs.com", pub},
		{"cn-hangzhou-intranet.log.aliyuncs.com", priv},
		{"http://cn-hangzhou.log.aliyuncs.com", pub},
		{"https://cn-hangzhou.log.aliyuncs.com", pub},
		{"https://cn-hangzhou-intranet.log.aliyuncs.com", priv},
		{"https://cn-hangzhou.log.aliyuncs.com/", pub},
		{"https://cn-hangzhou.log.aliyuncs.com//", pub},
		{"cn-hangzhou.log.aliyuncs.com/", pub},
		{"cn-hangzhou.log.aliyuncs.com.", pub},
		{"  cn-hangzhou.log.aliyuncs.com \n", pub},
		{"\tHTTPS://CN-HANGZHOU-INTRANET.LOG.ALIYUNCS.COM/ ", priv},
		{"Cn-Hangzhou.Log.Aliyuncs.Com", pub},
		{"http://cn-hangzhou.log.aliyuncs.com:80", pub},
		{"https://cn-hangzhou.log.aliyuncs.com:443/", pub},
		{"cn-hangzhou.log.aliyuncs.com:10012", pub},
		{"cn-hangzhou-intranet.log.aliyuncs.com:10011", priv},
		// Already carrying the project: a Kafka bootstrap address.
		{"my-project.cn-hangzhou.log.aliyuncs.com", pub},
		{"my-project.cn-hangzhou.log.aliyuncs.com:10012", pub},
		{"https://my-project.cn-hangzhou-intranet.log.aliyuncs.com", priv},
		{"MY-PROJECT.CN-HANGZHOU.LOG.ALIYUNCS.COM", pub},
		// Finance, government and numbered regions.
		{"cn-shanghai-finance-1.log.aliyuncs.com", "my-project.cn-shanghai-finance-1.log.aliyuncs.com:10012"},
		{"https://cn-shanghai-finance-1-intranet.log.aliyuncs.com", "my-project.cn-shanghai-finance-1-intranet.log.aliyuncs.com:10011"},
		{"cn-shenzhen-finance-1-intranet.log.aliyuncs.com", "my-project.cn-shenzhen-finance-1-intranet.log.aliyuncs.com:10011"},
		{"cn-north-2-gov-1.log.aliyuncs.com", "my-project.cn-north-2-gov-1.log.aliyuncs.com:10012"},
		{"ap-southeast-1.log.aliyuncs.com", "my-project.ap-southeast-1.log.aliyuncs.com:10012"},
		{"eu-central-1-intranet.log.aliyuncs.com", "my-project.eu-central-1-intranet.log.aliyuncs.com:10011"},
	}
	for _, tt := range tests {
		got, err := FromSLS("my-project", tt.in)
		if err != nil {
			t.Errorf("FromSLS(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("FromSLS(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFromSLSRejects(t *testing.T) {
	tests := []struct {
		project, in, wantErr string
	}{
		{"My_Project", "cn-hangzhou.log.aliyuncs.com", `invalid project name "My_Project"`},
		{"my-project", "", "SLS endpoint is empty"},
		{"my-project", "   ", "SLS endpoint is empty"},
		{"my-project", "ftp://cn-hangzhou.log.aliyuncs.com", `has scheme "ftp"`},
		{"my-project", "sasl_ssl://my-project.cn-hangzhou.log.aliyuncs.com:10012", `has scheme "sasl_ssl"`},
		{"my-project", "https://cn-hangzhou.log.aliyuncs.com/logstores/app", "has a path, query or user"},
		{"my-project", "https://cn-hangzhou.log.aliyuncs.com?x=1", "has a path, query or user"},
		{"my-project", "https://user@cn-hangzhou.log.aliyuncs.com", "has a path, query or user"},
		{"my-project", "cn-hangzhou .log.aliyuncs.com", "contains white space"},
		{"my-project", "cn-hangzhou.log.aliyuncs.com:port", `has port "port"`},
		{"my-project", "cn-hangzhou.log.aliyuncs.com:0", `has port "0"`},
		{"my-project", "cn-hangzhou.log.aliyuncs.com:10011", "has port 10011, but SLS serves Kafka on port 10012 on the public network"},
		{"my-project", "cn-hangzhou-intranet.log.aliyuncs.com:10012", "has port 10012, but SLS serves Kafka on port 10011 on the intranet network"},
		{"my-project", "cn-hangzhou.log.aliyuncs.com:8080", "has port 8080"},
		{"my-project", "cn-hangzhou", `"cn-hangzhou" is a region id, not an SLS endpoint: call endpoint.For(project, "cn-hangzhou", endpoint.Public)`},
		{"my-project", "cn-hangzhou.aliyuncs.com", "is not an SLS endpoint"},
		{"my-project", "example.com:9093", "call endpoint.Parse"},
		{"my-project", "log.aliyuncs.com", "is not an SLS endpoint"},
		{"my-project", ".log.aliyuncs.com", "is not an SLS endpoint"},
		{"my-project", "other-project.cn-hangzhou.log.aliyuncs.com", `belongs to project "other-project", not "my-project"`},
		{"my-project", "my-project.a.cn-hangzhou.log.aliyuncs.com", "is not an SLS endpoint"},
		{"my-project", "a.my-project.cn-hangzhou.log.aliyuncs.com", `belongs to project "a", not "my-project"`},
		{"my-project", "cn-hangzhou-share.log.aliyuncs.com", "cross-region (-share) endpoint, and SLS serves Kafka only on the public and intranet endpoints: use cn-hangzhou.log.aliyuncs.com"},
		{"my-project", "cn-hangzhou-share-intranet.log.aliyuncs.com", "cross-region (-share) endpoint"},
		{"my-project", "cn-hangzhou.log.aliyuncs.com:+443", "not a number between 1 and 65535"},
		{"my-project", "hangzhou.log.aliyuncs.com", `names region "hangzhou", which is not a region id: use the id of that region, "cn-hangzhou"`},
		{"my-project", "mars.log.aliyuncs.com", `names region "mars", which is not a region id: region ids have at least two hyphen-separated words`},
		{"my-project", "cn-hangzhou.log.aliyuncs.con", `is not an SLS endpoint (<region>.log.aliyuncs.com or <region>-intranet.log.aliyuncs.com): did you mean cn-hangzhou.log.aliyuncs.com?`},
		{"my-project", "https://cn-hangzhou-intranet.log.aliyun.com", "did you mean cn-hangzhou-intranet.log.aliyuncs.com?"},
		{"my-project", "x-share.log.aliyuncs.com", "is a cross-region (-share) endpoint, and SLS serves Kafka only on the public and intranet endpoints: use <region>.log.aliyuncs.com"},
		{"my-project", "cn_hangzhou.log.aliyuncs.com", `found '_'`},
		{"my-project", "-intranet.log.aliyuncs.com", `names region ""`},
		{"my-project", "[::1]:10012", "is not an SLS endpoint"},
	}
	for _, tt := range tests {
		_, err := FromSLS(tt.project, tt.in)
		checkErr(t, "FromSLS("+tt.project+", "+tt.in+")", err, tt.wantErr)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
	}{
		{"127.0.0.1:9093", Endpoint{"127.0.0.1", 9093}},
		{" localhost:1 ", Endpoint{"localhost", 1}},
		{"[::1]:65535", Endpoint{"::1", 65535}},
		{"my-project.cn-hangzhou.log.aliyuncs.com:10012", Endpoint{"my-project.cn-hangzhou.log.aliyuncs.com", 10012}},
		{"sls-kafka.privatelink.example:10012", Endpoint{"sls-kafka.privatelink.example", 10012}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "address is empty"},
		{"   ", "address is empty"},
		{"127.0.0.1", "has no port: write host:port"},
		{"cn-hangzhou.log.aliyuncs.con", `has no port, and its domain is not SLS's: did you mean cn-hangzhou.log.aliyuncs.com?`},
		{"cn-hangzhou.log.aliyuncs.com", "has no port: for an SLS endpoint call endpoint.FromSLS"},
		{"https://cn-hangzhou.log.aliyuncs.com", "has a scheme"},
		{":9093", "has no host"},
		{"localhost:http", `has port "http"`},
		{"localhost:+9093", `has port "+9093"`},
		{"localhost:0", `has port "0"`},
		{"localhost:65536", `has port "65536"`},
		{"localhost:-1", `has port "-1"`},
		{"::1:9093", "too many colons"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		checkErr(t, "Parse("+tt.in+")", err, tt.wantErr)
	}
}

func TestEndpointString(t *testing.T) {
	tests := []struct {
		e    Endpoint
		want string
	}{
		{Endpoint{"a.b", 1}, "a.b:1"},
		{Endpoint{"::1", 9093}, "[::1]:9093"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.e, got, tt.want)
		}
		back, err := Parse(tt.e.String())
		if err != nil || back != tt.e {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", tt.e.String(), back, err, tt.e)
		}
	}
}

func TestNetwork(t *testing.T) {
	if Network(0) != Public {
		t.Errorf("zero Network = %v, want public", Network(0))
	}
	for _, tt := range []struct {
		n    Network
		name string
		port int
	}{
		{Public, "public", 10012},
		{Intranet, "intranet", 10011},
		{Network(-1), "Network(-1)", 0},
	} {
		if got := tt.n.String(); got != tt.name {
			t.Errorf("Network(%d).String() = %q, want %q", int(tt.n), got, tt.name)
		}
		if got := tt.n.Port(); got != tt.port {
			t.Errorf("Network(%d).Port() = %d, want %d", int(tt.n), got, tt.port)
		}
	}

	var cfg struct{ Network Network }
	for in, want := range map[string]Network{
		`{"Network":"public"}`:     Public,
		`{"Network":"PUBLIC"}`:     Public,
		`{"Network":"intranet"}`:   Intranet,
		`{"Network":" Intranet "}`: Intranet,
	} {
		cfg.Network = Network(9)
		if err := json.Unmarshal([]byte(in), &cfg); err != nil || cfg.Network != want {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", in, cfg.Network, err, want)
		}
	}
	err := json.Unmarshal([]byte(`{"Network":"vpc"}`), &cfg)
	checkErr(t, "unmarshal vpc", err, `unknown network "vpc": use "public" or "intranet"`)

	b, err := json.Marshal(struct{ A, B Network }{Public, Intranet})
	if err != nil || string(b) != `{"A":"public","B":"intranet"}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
	_, err = json.Marshal(struct{ N Network }{Network(5)})
	if err == nil || !strings.Contains(err.Error(), "endpoint: cannot marshal Network(5): use endpoint.Public or endpoint.Intranet") {
		t.Errorf("json.Marshal(Network(5)) error = %v", err)
	}
}

// checkErr fails unless err is non-nil, starts with the package prefix,
// contains want, and follows the error style.
func checkErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "endpoint: ") {
		t.Errorf("%s: error %q lacks the \"endpoint: \" prefix", what, msg)
	}
	if strings.Contains(strings.TrimPrefix(msg, "endpoint: "), ": endpoint: ") {
		t.Errorf("%s: error %q repeats the package prefix", what, msg)
	}
	if strings.HasSuffix(msg, ".") {
		t.Errorf("%s: error %q ends with a period", what, msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s: error %q does not contain %q", what, msg, want)
	}
}

// An endpoint pasted with user info never has its password repeated in
// the error that refuses it.
func TestErrorsHideUserInfo(t *testing.T) {
	for _, in := range []string{"https://user:pAsSwOrD@cn-hangzhou.log.aliyuncs.com", "user:pAsSwOrD@cn-hangzhou.log.aliyuncs.com"} {
		_, err := FromSLS("demo", in)
		if err == nil || strings.Contains(err.Error(), "pAsSwOrD") || !strings.Contains(err.Error(), "cn-hangzhou.log.aliyuncs.com") {
			t.Errorf("FromSLS(%q) error = %v", in, err)
		}
	}
	for _, in := range []string{"user:pAsSwOrD@127.0.0.1:9093", "http://user:pAsSwOrD@127.0.0.1:9093"} {
		_, err := Parse(in)
		if err == nil || strings.Contains(err.Error(), "pAsSwOrD") {
			t.Errorf("Parse(%q) error = %v", in, err)
		}
	}
}
