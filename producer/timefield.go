package producer

// DefaultTimeField is the default Config.TimeField: the field that keeps a
// record's time to the nanosecond, which __time__ keeps to the second.
const DefaultTimeField = "time"

// NoTimeField as Config.TimeField leaves the time field out: the log keeps
// only __time__, in whole seconds.
const NoTimeField = "-"

// timeKey is the key the record's time is written under, or "" for none.
func (c Config) timeKey() string {
	switch c.TimeField {
	case "":
		return DefaultTimeField
	case NoTimeField:
		return ""
	}
	return c.TimeField
}
