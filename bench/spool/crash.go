package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// crashChild appends n records to candidate name in dir, printing
// "ok <i>" after each Append returned nil, then waits to be killed.
func crashChild(name, dir string, n int) {
	c := find(name)
	st, err := c.open(dir, time.Second)
	if err != nil {
		fmt.Println("err", err)
		os.Exit(2)
	}
	for i := range n {
		if _, err := st.Append(time.Now().UnixNano(), value(i)); err != nil {
			fmt.Println("err", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "ok %d\n", i) // unbuffered: one write per record
	}
	fmt.Println("done")
	select {}
}

// crashResult says what a SIGKILL mid-stream and a damaged tail did.
type crashResult struct {
	appended, replayed, lost, dups int
	torn                           string
}

// crashPhase runs a child that appends n records, kills it with SIGKILL
// once it reported n/2, replays, then damages the tail and replays again.
func crashPhase(c candidate, dir string, n int) (crashResult, error) {
	self, err := os.Executable()
	if err != nil {
		return crashResult{}, err
	}
	cmd := exec.Command(self, "-child", c.name, "-dir", dir, "-n", strconv.Itoa(n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return crashResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return crashResult{}, err
	}
	ok := map[int]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "ok" {
			i, _ := strconv.Atoi(f[1])
			ok[i] = true
		} else if f[0] != "done" {
			return crashResult{}, fmt.Errorf("child: %s", sc.Text())
		}
		if !killed && len(ok) == n/2 {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	cmd.Wait()
	r := crashResult{appended: len(ok)}
	seen := map[int]int{}
	err = c.replay(dir, func(v []byte) {
		seen[idOf(v)]++
		r.replayed++
	})
	if err != nil {
		return r, fmt.Errorf("replay after SIGKILL: %w", err)
	}
	for i := range ok {
		if seen[i] == 0 {
			r.lost++
		}
	}
	for _, k := range seen {
		if k > 1 {
			r.dups++
		}
	}
	r.torn = tornTail(c, dir, r.replayed)
	return r, nil
}

// tornTail damages the newest data file's tail as a write cut short by a
// power loss leaves it (the last 100 bytes garbled), then as a full disk
// or a cut copy leaves it (the file ends 50 bytes into its last record),
// and says what a reopen does each time.
func tornTail(c candidate, dir string, before int) string {
	garbled := damageTail(c, dir, before, func(f *os.File, end int64) error {
		_, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 100), end-150)
		return err
	})
	short := damageTail(c, dir, before, func(f *os.File, end int64) error { return f.Truncate(end - 50) })
	return "garbled: " + garbled + "; truncated: " + short
}

func damageTail(c candidate, dir string, before int, damage func(f *os.File, end int64) error) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	slices.Sort(files)
	var target string
	var end int64
	for i := len(files) - 1; i >= 0 && target == ""; i-- {
		b, err := os.ReadFile(files[i])
		if err != nil || filepath.Base(files[i]) == "LOCK" {
			continue
		}
		if e := int64(len(bytes.TrimRight(b, "\x00"))); e > 4096 {
			target, end = files[i], e
		}
	}
	if target == "" {
		return "no data file found"
	}
	f, err := os.OpenFile(target, os.O_RDWR, 0)
	if err != nil {
		return err.Error()
	}
	err = damage(f, end)
	f.Close()
	if err != nil {
		return err.Error()
	}
	// In a child process: a library may crash the process on damage (a
	// mapped file shorter than it thinks is SIGBUS).
	self, err := os.Executable()
	if err != nil {
		return err.Error()
	}
	out, err := exec.Command(self, "-replaychild", c.name, "-dir", dir).Output()
	if err != nil {
		if len(out) > 0 {
			return fmt.Sprintf("reopen fails: %.90s", strings.TrimSpace(string(out)))
		}
		return fmt.Sprintf("reopen crashes the process (%v)", err)
	}
	var n, garbled int
	fmt.Sscan(string(out), &n, &garbled)
	return fmt.Sprintf("replays %d of %d, %d garbled", n, before, garbled)
}

// replayChild replays dir with candidate name and prints how many records
// came back and how many of them are not what was appended, or the error.
func replayChild(name, dir string) {
	n, garbled := 0, 0
	err := find(name).replay(dir, func(v []byte) {
		n++
		if !bytes.Equal(v, value(idOf(v))) {
			garbled++
		}
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(n, garbled)
	os.Exit(0)
}

// idOf returns the number of a value made by value.
func idOf(v []byte) int {
	i := bytes.Index(v, []byte(`"id":"`))
	if i < 0 || len(v) < i+14 {
		return -1
	}
	n, _ := strconv.Atoi(string(v[i+6 : i+14]))
	return n
}

// value is a record of about 300 bytes, numbered i.
func value(i int) []byte {
	v := fmt.Appendf(nil, `{"id":"%08d","level":"INFO","msg":"request served to client after authorization and rate limiting","method":"GET","path":"/api/v1/orders/1234567/items?page=2&size=50","status":"200","ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"`, i)
	for len(v) < 298 {
		v = append(v, ' ')
	}
	return append(v, '}')
}
