package pci

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPlatformInterfacesAreOSFree: the parts of platform/ that a hypervisor
// or bare-metal runtime implements (mmio, dma, pci) and the drivers built on
// them reach no OS package, directly or indirectly (STYLE.md §4). The Linux
// implementations live in subpackages (dma/linux, pci/sysfs) and are not
// checked. They also cross-compile for arm64 and riscv64 without cgo.
func TestPlatformInterfacesAreOSFree(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	pkgs := []string{"../mmio", "../dma", ".", "../dma/dmatest"}
	if out, err := exec.Command(goBin, "list", "../../drivers/...").Output(); err == nil && len(out) > 0 {
		pkgs = append(pkgs, "../../drivers/...")
	}
	out, err := exec.Command(goBin, append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := map[string]bool{"os": true, "syscall": true, "net": true, "time": true, "fmt": true,
		"log": true, "log/slog": true, "context": true}
	for line := range strings.Lines(string(out)) {
		if p := strings.TrimSpace(line); forbidden[p] {
			why, _ := exec.Command(goBin, append([]string{"list", "-f",
				`{{.ImportPath}}: {{join .Imports " "}}`}, pkgs...)...).Output()
			t.Errorf("%s is a dependency of %v\n%s", p, pkgs, why)
		}
	}
	if testing.Short() {
		return
	}
	for _, arch := range []string{"arm64", "riscv64"} {
		cmd := exec.Command(goBin, append([]string{"build"}, pkgs...)...)
		cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOARCH=%s go build: %v\n%s", arch, err, out)
		}
	}
}
