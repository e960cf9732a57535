// Package initramfs writes the gzip-compressed newc cpio archives the QEMU
// tier boots (the same format as test/qemu's in-test builder, for programs
// outside the tests: the visor appliance image of `make demo`). Entries are
// owned by root; device nodes are only headers, so no privileges are needed.
package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// File is one archive entry.
type File struct {
	Name         string // without leading "/"
	Mode         uint32 // including the file type bits (ModeDir, ModeFile, ModeChr)
	Data         []byte
	Major, Minor uint32 // device numbers of character devices
}

// File type bits.
const (
	ModeDir  = 0o040000
	ModeFile = 0o100000
	ModeChr  = 0o020000
)

// Base is what every image needs besides /init: /dev/console (the kernel
// opens it for PID 1 before devtmpfs exists, facts/qemu-e1000.md §8 gotcha 9)
// and the mount points.
func Base() []File {
	return []File{
		{Name: "dev", Mode: ModeDir | 0o755},
		{Name: "dev/console", Mode: ModeChr | 0o600, Major: 5, Minor: 1},
		{Name: "proc", Mode: ModeDir | 0o755},
		{Name: "sys", Mode: ModeDir | 0o755},
		{Name: "tmp", Mode: ModeDir | 0o1777},
	}
}

// Write writes files as a gzip-compressed newc cpio archive.
func Write(w io.Writer, files []File) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	ino := uint32(1)
	entry := func(f File) {
		name := f.Name + "\x00"
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, f.Mode, 0, 0, 1, 0, len(f.Data), 0, 0, f.Major, f.Minor, len(name), 0)
		ino++
		buf.WriteString(name)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
		buf.Write(f.Data)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
	}
	for _, f := range files {
		entry(f)
	}
	entry(File{Name: "TRAILER!!!"})
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}
