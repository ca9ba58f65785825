package writersls

import "testing"

// BenchmarkWrite is what the Writer itself costs per line (a nil producer
// refuses at once): splitting, validating and flattening.
func BenchmarkWrite(b *testing.B) {
	for _, c := range []struct{ name, line string }{
		{"zerolog", `{"level":"info","service":"shop","method":"GET","path":"/api/orders","status":200,"req":{"ms":84},"message":"served"}` + "\n"},
		{"text", "2026/12/07 01:02:03 served 3 requests for /api/orders in 84ms\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := New(nil, "app", nil)
			line := []byte(c.line)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				w.Write(line)
			}
		})
	}
}
