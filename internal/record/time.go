package record

import "time"

// TimeLayout is how AppendTime writes a time: RFC 3339 in UTC with nine
// fractional digits. The fixed width makes the text sort as the times do,
// which RFC3339Nano, trimming trailing zeros, does not.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// AppendTime appends t in TimeLayout. It is the hot path of every record
// with a time field: writing the digits directly costs a third of
// time.AppendFormat with this layout, which has no fast path.
func AppendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < minRFC3339 || sec > maxRFC3339 {
		return t.UTC().AppendFormat(dst, TimeLayout) // not RFC 3339: let time say what it is
	}
	var b [len(TimeLayout)]byte
	putSecond(&b, sec)
	putFraction(&b, t.Nanosecond())
	return append(dst, b[:]...)
}

// secondCache is the text of one second, up to its fractional digits:
// most records of a producer fall in the second of the one before.
type secondCache struct {
	sec  int64
	text [len(TimeLayout)]byte
}

// appendTime is AppendTime that reuses the text of the second of the
// previous call when t falls in it.
func (st *Static) appendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	c := st.second.Load()
	if c == nil || c.sec != sec {
		if sec < minRFC3339 || sec > maxRFC3339 {
			return AppendTime(dst, t)
		}
		c = &secondCache{sec: sec}
		putSecond(&c.text, sec)
		st.second.Store(c)
	}
	b := c.text
	putFraction(&b, t.Nanosecond())
	return append(dst, b[:]...)
}

// putSecond writes the date and time of sec, a Unix time in RFC 3339's
// range, to b, up to the fractional digits.
func putSecond(b *[len(TimeLayout)]byte, sec int64) {
	// Days to a civil date (Howard Hinnant's civil_from_days), counted
	// from -0400-03-01 so that every value is positive: 0000-01-01 is
	// 400 years (146097 days) less 60 days after it.
	days := (sec - minRFC3339) / 86400
	sod := int((sec - minRFC3339) % 86400)
	z := days + 146097 - 60
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := int(doy - (153*mp+2)/5 + 1)
	month := int(mp + 3)
	year := int(yoe+era*400) - 400
	if month > 12 {
		month -= 12
		year++
	}
	put2(b[0:], year/100)
	put2(b[2:], year%100)
	b[4] = '-'
	put2(b[5:], month)
	b[7] = '-'
	put2(b[8:], day)
	b[10] = 'T'
	put2(b[11:], sod/3600)
	b[13] = ':'
	put2(b[14:], sod/60%60)
	b[16] = ':'
	put2(b[17:], sod%60)
	b[19] = '.'
	b[29] = 'Z'
}

// putFraction writes ns, the nanoseconds of a second, as b's nine
// fractional digits.
func putFraction(b *[len(TimeLayout)]byte, ns int) {
	put2(b[20:], ns/10000000)
	put2(b[22:], ns/100000%100)
	put2(b[24:], ns/1000%100)
	put2(b[26:], ns/10%100)
	b[28] = byte('0' + ns%10)
}

// The Unix times of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the
// range of RFC 3339.
const (
	minRFC3339 = -62167219200
	maxRFC3339 = 253402300799
)

// put2 writes v, 0 to 99, as two digits.
func put2(b []byte, v int) {
	b[0], b[1] = digits[2*v], digits[2*v+1]
}

const digits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"
