package slskafka

// Version is the release of this SDK. The producer sends it in its default
// Kafka client id ("slskafka/" + Version), so that SLS-side diagnostics can
// tell releases apart. Every module of the repository is tagged at the same
// version (see RELEASING.md).
const Version = "v0.1.0"
