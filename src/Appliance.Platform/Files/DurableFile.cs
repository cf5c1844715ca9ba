using System.Text;
using static Tmds.Linux.LibC;

namespace Appliance.Platform.Files;

/// <summary>
/// File changes that survive a power cut whole: a write goes to a temporary file in the same directory, is fsynced,
/// renamed over the target and the directory is fsynced, so after a crash the target is the old file or the new one,
/// never a torn one. rename(2) is atomic only within one file system, hence the temporary file beside the target;
/// without the directory fsync the rename itself may be lost (ext4 <c>data=ordered</c> keeps the data, not the name).
/// </summary>
public static unsafe class DurableFile
{
    /// <summary>The suffix of the temporary file a write goes through; a crash can leave one behind, the next write replaces it.</summary>
    public const string TemporarySuffix = ".tmp";

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> (a new file gets mode 0600) and returns once the
    /// content and the name are on disk. Replaces an existing file.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var temporary = path + TemporarySuffix;
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = OwnerReadWrite,
        }))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        SyncDirectoryOf(path);
    }

    /// <summary>rename(2) of <paramref name="from"/> over <paramref name="to"/>, durable when this returns.</summary>
    public static void Move(string from, string to)
    {
        File.Move(from, to, overwrite: true);
        SyncDirectoryOf(to);
        if (!SameDirectory(from, to)) SyncDirectoryOf(from);
    }

    /// <summary>
    /// Overwrites the file with zeros, fsyncs it, unlinks it and fsyncs the directory; nothing to do when it is absent.
    /// On flash and journalling file systems the old blocks may survive the overwrite; it still removes the secret from
    /// every ordinary read path, including backups of the directory.
    /// </summary>
    public static void SecurelyDelete(string path)
    {
        if (!File.Exists(path)) return;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            var length = stream.Length;
            var zeros = new byte[Math.Max(1, (int)Math.Min(length, 1 << 20))];
            for (long written = 0; written < length; written += zeros.Length)
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, length - written));
            stream.Flush(flushToDisk: true);
        }
        File.Delete(path);
        SyncDirectoryOf(path);
    }

    /// <summary>fsync of the directory holding <paramref name="path"/>: makes creations, renames and unlinks in it durable.</summary>
    public static void SyncDirectoryOf(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = bytes) fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            throw new IOException($"Cannot open the directory {directory} to make a file change in it durable: errno {errno}. Check that it exists and the service may read it.");
        try
        {
            if (fsync(fd) != 0)
                throw new IOException($"fsync of the directory {directory} failed: errno {errno}. The file system may be read-only or failing; check the kernel log.");
        }
        finally
        {
            close(fd);
        }
    }

    private static bool SameDirectory(string a, string b) =>
        string.Equals(Path.GetDirectoryName(Path.GetFullPath(a)), Path.GetDirectoryName(Path.GetFullPath(b)), StringComparison.Ordinal);
}
