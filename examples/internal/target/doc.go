// Package target picks where an example ships: to real SLS, configured from
// the environment, or to an embedded SLS emulator, so that every example runs
// anywhere as it is and against a real project once a few variables are set.
//
// With SLS_PROJECT set, Setup is producer.ConfigFromEnv plus the logstore
// named by SLS_LOGSTORE. That is all a program of your own needs (this
// package is internal to the examples, so a copied example calls
// producer.ConfigFromEnv instead):
//
//	cfg, err := producer.ConfigFromEnv() // SLS_PROJECT, SLS_ENDPOINT or SLS_REGION, auth.Default credentials
//	if err != nil { ... }
//	logstore := os.Getenv(producer.EnvLogstore)
//
// Without SLS_PROJECT, Setup starts the emulator (slstest.Start) and returns
// a Config that trusts its CA and holds its AccessKey:
//
//	tg, err := target.Setup(os.Stdout, slstest.Config{Logstores: map[string]int{"app": 2}})
//	if err != nil { ... }
//	defer tg.Close()
//	p, err := producer.New(tg.Config)
//	if err != nil { ... }
//	err = p.Log(ctx, tg.Logstore, record)
package target
