package build

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
)

// packTar writes the members of a packed directory as a deterministic tar,
// compressed with gzip, into w: members in walk order (sorted by name in
// each directory), owner 0:0 without names, modification times at the Unix
// epoch, and only permission bits. It returns the digest of the
// uncompressed tar. The gzip bytes are stable for a given Go release.
func packTar(ctx context.Context, w io.Writer, members []member) (digest.Digest, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return "", err
	}
	td := digest.SHA256.Digester()
	tw := tar.NewWriter(io.MultiWriter(zw, td.Hash()))
	buf := make([]byte, copyBufferSize)
	epoch := time.Unix(0, 0)
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		hdr := &tar.Header{Name: m.name, Mode: int64(m.mode.Perm()), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case m.mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, m.name+"/"
		case m.mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, m.target
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = m.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", fileErr(m.name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := copyFile(ctx, tw, m.disk, m.size, buf); err != nil {
			return "", fileErr(m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return td.Digest(), nil
}

// copyFile copies exactly size bytes of the file at p into w; a file that
// grew or shrank since it was listed is an error.
func copyFile(ctx context.Context, w io.Writer, p string, size int64, buf []byte) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(w, ctxReader{ctx, io.LimitReader(f, size+1)}, buf)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("file changed while packing: %d bytes, listed with %d", n, size)
	}
	return nil
}
