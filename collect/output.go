package collect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CollectFile runs Collect into a new file at path, which it never
// replaces. The bundle is written to a temporary file in path's folder
// (".NAME.tmp-*"), synced to disk, and moved to path only once complete:
// path then holds a whole bundle or nothing. On any error, and when ctx is
// done (an interrupt: cmd/ cancels ctx on SIGINT, SIGTERM and SIGHUP), the
// temporary file is removed, nothing is left at path, and the error says
// why. o.Output is ignored.
func CollectFile(ctx context.Context, path string, o Options) (m *Manifest, err error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating the bundle: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	o.Output = f
	if m, err = Collect(ctx, o); err != nil {
		return m, err
	}
	if err = f.Sync(); err != nil {
		return m, fmt.Errorf("writing the bundle: %w", err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return m, fmt.Errorf("writing the bundle: %w", err)
	}
	if ctx.Err() != nil {
		return m, fmt.Errorf("collect: interrupted: %w", context.Cause(ctx))
	}
	if err = publish(tmp, path); err != nil {
		return m, err
	}
	syncDir(dir)
	return m, nil
}

// publish gives the finished file tmp its final name path, never
// replacing a file that appeared at path meanwhile: a hard link fails when
// path exists (git finalizes its object files the same way). Where the
// file system has no hard links it renames, after checking path again.
func publish(tmp, path string) error {
	if err := os.Link(tmp, path); err == nil {
		if err := os.Remove(tmp); err != nil {
			os.Remove(path) // two names of one bundle: keep neither
			return err
		}
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	}
	return os.Rename(tmp, path)
}

// syncDir makes a new name in dir durable. Errors are ignored: some
// systems (Windows) cannot sync a folder, and the bundle itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
