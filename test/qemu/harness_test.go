//go:build qemu

package qemu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/lwgo/lwgo/test/qemu/internal/initramfs"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// work holds the built guest and images for the whole run.
var (
	work     string
	setupErr error
	setupMu  sync.Mutex
	setupRan bool
	kernel   string
	qemuBin  string
	guestImg string // initramfs with the test guest as /init
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lwgo-qemu-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	work = dir
	code := m.Run()
	if code == 0 || os.Getenv("LWGO_QEMU_KEEP") == "" {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "qemu: kept %s\n", dir)
	}
	os.Exit(code)
}

// inCI reports whether missing prerequisites must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// need skips the test (or fails it in CI) when err says a prerequisite is
// missing.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if inCI() {
		t.Fatalf("QEMU tier prerequisite missing (CI=true, so this fails): %s: %v", what, err)
	}
	t.Skipf("QEMU tier prerequisite missing: %s: %v", what, err)
}

// setup finds QEMU and the kernel and builds the guest image once.
func setup(t *testing.T) {
	t.Helper()
	setupMu.Lock()
	defer setupMu.Unlock()
	if !setupRan {
		setupRan = true
		setupErr = doSetup()
	}
	need(t, "QEMU tier setup", setupErr)
}

func doSetup() error {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("needs linux/amd64, have %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	var err error
	if qemuBin, err = exec.LookPath("qemu-system-x86_64"); err != nil {
		return fmt.Errorf("qemu-system-x86_64 (Debian package qemu-system-x86): %w", err)
	}
	kernel = os.Getenv("LWGO_QEMU_KERNEL")
	if kernel == "" {
		home, _ := os.UserHomeDir()
		kernel = filepath.Join(home, ".cache", "lwgo-qemu", "vmlinux")
	}
	if _, err := os.Stat(kernel); err != nil {
		return fmt.Errorf("guest kernel (run test/qemu/kernel.sh, or make qemu): %w", err)
	}
	init := filepath.Join(work, "init")
	start := time.Now()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", init, "./guest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the guest /init: %v\n%s", err, out)
	}
	img, err := buildImage(init, "guest")
	if err != nil {
		return err
	}
	guestImg = img
	fmt.Printf("qemu: guest /init and initramfs built in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// buildImage packs an initramfs whose /init is the binary at initPath, plus
// /dev/console (the kernel opens it for PID 1 before devtmpfs exists) and
// the mount points the guest uses. Other appliances (the visor VM) use it
// with their own /init.
func buildImage(initPath, name string, extra ...initramfs.File) (string, error) {
	bin, err := os.ReadFile(initPath)
	if err != nil {
		return "", err
	}
	files := append(initramfs.Base(), initramfs.File{Name: "init", Mode: initramfs.ModeFile | 0o755, Data: bin})
	files = append(files, extra...)
	path := filepath.Join(work, name+".initramfs.gz")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := initramfs.Write(f, files); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// Boot describes one QEMU run.
type Boot struct {
	Name    string        // case name: log and pcap file names
	Initrd  string        // initramfs; default the test guest's
	Append  string        // extra kernel command-line words (lwgo.case=…)
	Netdev  string        // -netdev value, must define id=n0
	NIC     string        // -device model; default "e1000"
	Memory  int           // MiB; default 256
	Timeout time.Duration // hard limit for the whole QEMU run
	Wrap    []string      // command prefix, e.g. ip netns exec NAME
	Pcap    bool          // record the NIC's traffic (filter-dump)
}

// Line is one line of guest output with the time since QEMU started.
type Line struct {
	At   time.Duration
	Text string
}

// Result is what a boot produced.
type Result struct {
	RC         int  // QEMU exit status: 1 PASS, 3 FAIL, 0 no verdict, -1 killed
	Pass       bool // RC == 1 and the guest printed PASS
	TimedOut   bool
	Lines      []Line
	FirstFrame time.Duration // QEMU start to the guest's first lwgo frame (0 if none)
	Verdict    time.Duration // QEMU start to the verdict line
	Wall       time.Duration // QEMU start to exit
	Pcap       string
}

// Find returns the first line containing s, or "".
func (r *Result) Find(s string) string {
	for _, l := range r.Lines {
		if strings.Contains(l.Text, s) {
			return l.Text
		}
	}
	return ""
}

// VM is a running QEMU.
type VM struct {
	b      Boot
	cmd    *exec.Cmd
	start  time.Time
	mu     sync.Mutex
	lines  []Line
	eof    chan struct{} // closed when the console reader is done
	done   chan error
	res    *Result
	killed bool
}

// Run boots the VM and waits for it to exit or time out, killing it then.
func (b Boot) Run(t *testing.T) *Result {
	t.Helper()
	return b.Start(t).Wait(t)
}

// Start boots the VM and returns at once; Wait collects the result.
func (b Boot) Start(t *testing.T) *VM {
	t.Helper()
	if b.Initrd == "" {
		b.Initrd = guestImg
	}
	if b.NIC == "" {
		b.NIC = "e1000"
	}
	if b.Memory == 0 {
		b.Memory = 256
	}
	if b.Timeout == 0 {
		b.Timeout = 90 * time.Second
	}
	args := []string{
		"-accel", "tcg", // KVM may be present but hang (facts/qemu-e1000.md §8, gotcha 1)
		"-m", fmt.Sprint(b.Memory), "-smp", "1",
		"-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", kernel, "-initrd", b.Initrd,
		"-append", "console=ttyS0 quiet panic=-1 lwgo.exitport=0xf4 " + b.Append,
		"-netdev", b.Netdev,
		"-device", b.NIC + ",netdev=n0,romfile=",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
	}
	vm := &VM{b: b, res: &Result{RC: -1}, eof: make(chan struct{}), done: make(chan error, 1)}
	if b.Pcap {
		vm.res.Pcap = filepath.Join(work, b.Name+".pcap")
		args = append(args, "-object", "filter-dump,id=f0,netdev=n0,file="+vm.res.Pcap)
	}
	argv := append(append([]string{}, b.Wrap...), append([]string{qemuBin}, args...)...)
	vm.cmd = exec.Command(argv[0], argv[1:]...)
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	vm.cmd.Stdout, vm.cmd.Stderr = pw, pw
	vm.start = time.Now()
	if err := vm.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", b.Name, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l := Line{time.Since(vm.start), strings.TrimRight(sc.Text(), "\r")}
			vm.mu.Lock()
			vm.lines = append(vm.lines, l)
			vm.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
		close(vm.eof)
	}()
	go func() { vm.done <- vm.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { vm.Kill() })
	return vm
}

// Since returns the time since QEMU started.
func (vm *VM) Since() time.Duration { return time.Since(vm.start) }

// Lines returns the console lines so far.
func (vm *VM) Lines() []Line {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]Line(nil), vm.lines...)
}

// Kill stops QEMU (and anything in its process group) at once.
func (vm *VM) Kill() {
	if vm.cmd.ProcessState == nil {
		syscall.Kill(-vm.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Wait waits for QEMU to exit, killing it at the Boot's timeout, and
// returns the result with the console, timings and verdict.
func (vm *VM) Wait(t *testing.T) *Result {
	t.Helper()
	b, res := vm.b, vm.res
	timer := time.NewTimer(b.Timeout - vm.Since())
	defer timer.Stop()
	var werr error
	waiting := true
	for waiting {
		select {
		case err := <-vm.done:
			werr, waiting = err, false
		case <-timer.C:
			res.TimedOut = true
			vm.Kill()
		}
	}
	res.Wall = vm.Since()
	<-vm.eof
	for _, l := range vm.Lines() {
		res.Lines = append(res.Lines, l)
		switch {
		case res.FirstFrame == 0 && strings.Contains(l.Text, "first lwgo frame sent"):
			res.FirstFrame = l.At
		case strings.Contains(l.Text, "LWGO RESULT:"):
			res.Verdict = l.At
		}
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
		res.RC = 0
	case errors.As(werr, &ee):
		res.RC = ee.ExitCode()
	}
	res.Pass = res.RC == 1 && !res.TimedOut && res.Find("LWGO RESULT: PASS") != ""
	t.Logf("%s: QEMU exit %d (1 = PASS) after %v; first lwgo frame at %v, verdict at %v",
		b.Name, res.RC, res.Wall.Round(time.Millisecond), res.FirstFrame.Round(time.Millisecond),
		res.Verdict.Round(time.Millisecond))
	fmt.Printf("qemu-timing: case=%s qemu-start-to-first-lwgo-frame=%v qemu-start-to-verdict=%v wall=%v pass=%v\n",
		b.Name, res.FirstFrame.Round(time.Millisecond), res.Verdict.Round(time.Millisecond),
		res.Wall.Round(time.Millisecond), res.Pass)
	if !res.Pass || os.Getenv("LWGO_QEMU_CONSOLE") != "" {
		var sb strings.Builder
		for _, l := range res.Lines {
			fmt.Fprintf(&sb, "  [%7.3fs] %s\n", l.At.Seconds(), l.Text)
		}
		t.Logf("%s: console:\n%s", b.Name, sb.String())
	}
	if res.TimedOut {
		t.Errorf("%s: QEMU killed after the %v timeout", b.Name, b.Timeout)
	}
	return res
}

// ctxTimeout is a context for helper commands.
func ctxTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
