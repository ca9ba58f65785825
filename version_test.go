package slskafka

import (
	"encoding/json"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every nested module requires the repository's own modules at Version, the
// version they are tagged at together (RELEASING.md), and replaces them with
// this checkout so that it builds here without the workspace (GOWORK=off,
// as CI runs each module). A user's go get ignores the replace and resolves
// the requirement, so the requirement must be a version that is tagged.
func TestNestedModulesRequireVersion(t *testing.T) {
	var mods []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" && path != "go.mod" {
			mods = append(mods, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatal("no nested go.mod found")
	}
	for _, path := range mods {
		out, err := exec.Command("go", "mod", "edit", "-json", path).Output()
		if err != nil {
			t.Fatalf("go mod edit -json %s: %v", path, err)
		}
		var mf struct {
			Require []struct{ Path, Version string }
			Replace []struct{ Old, New struct{ Path string } }
		}
		if err := json.Unmarshal(out, &mf); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		replaced := map[string]bool{}
		for _, r := range mf.Replace {
			if strings.HasPrefix(r.New.Path, ".") {
				replaced[r.Old.Path] = true
			}
		}
		own := 0
		for _, r := range mf.Require {
			if r.Path != "github.com/slskafka/slskafka" && !strings.HasPrefix(r.Path, "github.com/slskafka/slskafka/") {
				continue
			}
			own++
			if r.Version != Version {
				t.Errorf("%s requires %s %s, want %s", path, r.Path, r.Version, Version)
			}
			if !replaced[r.Path] {
				t.Errorf("%s does not replace %s with this checkout: without go.work it would be fetched", path, r.Path)
			}
		}
		if own == 0 {
			t.Errorf("%s requires no module of this repository", path)
		}
	}
}
