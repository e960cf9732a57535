package pci

import "testing"

func TestEnableBusMaster(t *testing.T) {
	var c ConfigMem
	c.WriteConfig(RegVendorID, 4, 0x100e8086)
	c.WriteConfig(RegCommand, 2, 0x0103) // SeaBIOS: IO|MEM|SERR
	old, cur, err := EnableBusMaster(&c)
	if err != nil || old != 0x0103 || cur != 0x0507 {
		t.Fatalf("EnableBusMaster = %#x, %#x, %v", old, cur, err)
	}
	id, err := ReadID(&c)
	if err != nil || id != (ID{0x8086, 0x100e}) {
		t.Fatalf("ReadID = %v, %v", id, err)
	}
	if err := DisableBusMaster(&c); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.ReadConfig(RegCommand, 2); v&CmdBusMaster != 0 {
		t.Fatalf("BME still set: %#x", v)
	}
}

func TestConfigMemRejectsBadAccess(t *testing.T) {
	var c ConfigMem
	for _, a := range []struct {
		off   uint16
		width int
	}{{1, 2}, {2, 4}, {0, 3}, {255, 2}, {256, 1}} {
		if _, err := c.ReadConfig(a.off, a.width); err == nil {
			t.Errorf("read %d/%d accepted", a.off, a.width)
		}
		if err := c.WriteConfig(a.off, a.width, 0); err == nil {
			t.Errorf("write %d/%d accepted", a.off, a.width)
		}
	}
}

// readOnlyBME is a config space whose bus-master bit does not stick.
type readOnlyBME struct{ ConfigMem }

func (r *readOnlyBME) WriteConfig(off uint16, width int, v uint32) error {
	if off == RegCommand {
		v &^= CmdBusMaster
	}
	return r.ConfigMem.WriteConfig(off, width, v)
}

func TestEnableBusMasterNotSticking(t *testing.T) {
	var c readOnlyBME
	if _, _, err := EnableBusMaster(&c); err == nil {
		t.Fatal("EnableBusMaster succeeded although BME did not stick")
	}
}
