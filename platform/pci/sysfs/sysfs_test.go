//go:build linux

package sysfs

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/platform/pci"
)

// TestFindAndReadConfig enumerates the host's PCI functions and reads each
// one's ID from configuration space, comparing it with sysfs. It only reads:
// the host's devices belong to the host's drivers.
func TestFindAndReadConfig(t *testing.T) {
	if _, err := os.Stat(Root); err != nil {
		t.Skip("no sysfs PCI bus here")
	}
	all, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Skip("no PCI functions")
	}
	for _, in := range all {
		d, err := Open(in.Addr)
		if err != nil {
			if os.IsPermission(err) {
				t.Skipf("%s: %v (needs root)", in.Addr, err)
			}
			t.Fatal(err)
		}
		id, err := pci.ReadID(d)
		d.Close()
		if err != nil {
			t.Fatalf("%s: %v", in.Addr, err)
		}
		if id != in.ID {
			t.Errorf("%s: config says %04x:%04x, sysfs %04x:%04x", in.Addr, id.Vendor, id.Device,
				in.ID.Vendor, in.ID.Device)
		}
		vend, _ := os.ReadFile(Root + "/" + in.Addr + "/vendor")
		v, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(vend), "0x")), 16, 16)
		if uint16(v) != id.Vendor {
			t.Errorf("%s: vendor file %q", in.Addr, vend)
		}
		t.Logf("%s %04x:%04x class %06x driver %q bar0 %+v", in.Addr, id.Vendor, id.Device, in.Class,
			in.Driver, in.BARs[0])
	}
	some, err := Find(all[0].ID)
	if err != nil || len(some) == 0 || some[0].ID != all[0].ID {
		t.Fatalf("Find(%v) = %v, %v", all[0].ID, some, err)
	}
}

func TestOpenRejectsPaths(t *testing.T) {
	for _, a := range []string{"", "../x", "0000:00:00.0/config"} {
		if _, err := Open(a); err == nil {
			t.Errorf("Open(%q) succeeded", a)
		}
	}
}
