//go:build qemu

package qemu

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// cpioFile is one initramfs entry.
type cpioFile struct {
	name  string // without leading "/"
	mode  uint32 // including the file type bits
	data  []byte
	major uint32 // device numbers for character devices
	minor uint32
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeChr  = 0o020000
)

// writeInitramfs writes files as a gzip-compressed newc cpio archive (what
// the kernel unpacks into its rootfs), owned by root. Device nodes need no
// privileges here: they are just headers.
func writeInitramfs(w io.Writer, files []cpioFile) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	ino := uint32(1)
	entry := func(f cpioFile) {
		name := f.name + "\x00"
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, f.mode, 0, 0, 1, 0, len(f.data), 0, 0, f.major, f.minor, len(name), 0)
		ino++
		buf.WriteString(name)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
		buf.Write(f.data)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
	}
	for _, f := range files {
		entry(f)
	}
	entry(cpioFile{name: "TRAILER!!!"})
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}
