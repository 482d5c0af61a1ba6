import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a crash at any instant leaves either the old file or the new one, never a
/// torn one: the bytes go to a temporary file in the same folder, which is flushed to disk and then
/// renamed over the target; the folder is flushed too so the rename itself survives a power loss.
///
/// ```swift
/// try AtomicFile.write(data, to: URL(fileURLWithPath: "model/weights.safetensors"))
/// ```
public enum AtomicFile {
    /// The prefix of temporary files, so that stale ones can be recognised and removed.
    public static let temporaryPrefix = ".nabla-tmp-"

    public static func write(_ data: Data, to url: URL) throws(TensorFileError) {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent("\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(url.lastPathComponent)")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw TensorFileError(file: url.path, "cannot create a temporary file in \(dir.path): \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = posixWrite(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp.path)
            throw TensorFileError(file: url.path, "cannot write: \(reason)")
        }
        syncDirectory(dir)
    }

    /// Flushes a folder's entries (renames, creations) to disk.
    public static func syncDirectory(_ dir: URL) {
        let dfd = open(dir.path, O_RDONLY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// Removes temporary files left in `dir` by writes that were interrupted.
    public static func removeStaleTemporaries(in dir: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        for name in names where name.hasPrefix(temporaryPrefix) {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
        }
    }
}

/// POSIX write(2) (Glibc or Darwin), under a name that does not collide with Swift's `write`.
@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
