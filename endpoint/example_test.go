package endpoint_test

import (
	"fmt"

	"github.com/slskafka/slskafka/endpoint"
)

func ExampleFor() {
	pub, err := endpoint.For("my-project", "cn-hangzhou", endpoint.Public)
	if err != nil {
		panic(err)
	}
	vpc, err := endpoint.For("my-project", "cn-hangzhou", endpoint.Intranet)
	if err != nil {
		panic(err)
	}
	fmt.Println(pub)
	fmt.Println(vpc)
	// Output:
	// my-project.cn-hangzhou.log.aliyuncs.com:10012
	// my-project.cn-hangzhou-intranet.log.aliyuncs.com:10011
}

func ExampleFromSLS() {
	// The SLS endpoint as it appears in existing configuration.
	for _, sls := range []string{
		"cn-hangzhou.log.aliyuncs.com",
		"https://cn-hangzhou-intranet.log.aliyuncs.com/",
		"cn-shanghai-finance-1.log.aliyuncs.com",
	} {
		ep, err := endpoint.FromSLS("my-project", sls)
		if err != nil {
			panic(err)
		}
		fmt.Println(ep)
	}

	// Mistakes are reported with what to do about them.
	_, err := endpoint.FromSLS("my-project", "cn-hangzhou")
	fmt.Println(err)
	// Output:
	// my-project.cn-hangzhou.log.aliyuncs.com:10012
	// my-project.cn-hangzhou-intranet.log.aliyuncs.com:10011
	// my-project.cn-shanghai-finance-1.log.aliyuncs.com:10012
	// endpoint: "cn-hangzhou" is a region id, not an SLS endpoint: call endpoint.For(project, "cn-hangzhou", endpoint.Public) or pass cn-hangzhou.log.aliyuncs.com
}

func ExampleParse() {
	// An emulator or a private link: a literal host:port.
	ep, err := endpoint.Parse("127.0.0.1:9093")
	if err != nil {
		panic(err)
	}
	fmt.Println(ep.Host, ep.Port)
	// Output: 127.0.0.1 9093
}

func ExampleValidateLogstore() {
	fmt.Println(endpoint.ValidateLogstore("app_log"))
	fmt.Println(endpoint.ValidateLogstore("App-Log"))
	// Output:
	// <nil>
	// endpoint: invalid logstore name "App-Log": logstore names are lower-case (use "app-log")
}

func ExampleEndpoint_Warning() {
	// A mistyped region is a valid region id, so For accepts it ...
	ep, err := endpoint.For("my-project", "cn-hangzou", endpoint.Public)
	if err != nil {
		panic(err)
	}
	// ... and Warning says what is most likely wrong.
	fmt.Println(ep.Warning())
	// Output:
	// endpoint: region "cn-hangzou" is not an SLS region this SDK knows: did you mean "cn-hangzhou"? (a region opened after this release works as it is; then ignore this warning)
}
