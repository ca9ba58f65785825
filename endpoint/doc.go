// Package endpoint builds, parses and validates the address of the Kafka
// endpoint of Alibaba Cloud Simple Log Service (SLS), and validates the SLS
// names that go into it.
//
// SLS serves the Kafka protocol per project, on two networks:
//
//	public   <project>.<region>.log.aliyuncs.com:10012
//	intranet <project>.<region>-intranet.log.aliyuncs.com:10011  (VPC / Alibaba Cloud internal network)
//
// There are three ways to get an [Endpoint]:
//
//   - [For] builds it from a project, a region id and a [Network]:
//
//     ep, err := endpoint.For("my-project", "cn-hangzhou", endpoint.Public)
//
//   - [FromSLS] takes the SLS HTTP endpoint that is already in most
//     configurations ("cn-hangzhou.log.aliyuncs.com",
//     "https://cn-hangzhou-intranet.log.aliyuncs.com/", ...) and returns the
//     Kafka host and port that belong to it:
//
//     ep, err := endpoint.FromSLS("my-project", os.Getenv("SLS_ENDPOINT"))
//
//   - [Parse] takes a literal "host:port", for an emulator (see package
//     slstest), a private link or a test.
//
// Choose the intranet endpoint only when the program runs inside Alibaba
// Cloud in the project's region; elsewhere it does not resolve or does not
// connect. The region of the endpoint must be the region of the project:
// SLS answers a producer on the wrong region with "unknown topic or
// partition", as if the logstore did not exist.
//
// [ValidateProject], [ValidateRegion] and [ValidateLogstore] check names
// before they reach the network, and their errors name the rule that was
// broken; a name they suggest instead is always valid.
//
// A well-formed region id that is not one of the SLS regions this package
// knows is accepted, so that a region opened after this release works; but
// it is most often a typo ("cn-hangzou"), which would only show when the
// host fails to resolve. [Endpoint.Warning] says so and names the closest
// known region; producer.New logs it to Config.Logger.
package endpoint
