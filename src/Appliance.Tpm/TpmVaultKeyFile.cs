using System.Security.Cryptography;
using System.Text;
using static Tmds.Linux.LibC;

namespace Appliance.Tpm;

/// <summary>
/// The TPM-sealed vault key on disk (<c>vault.tpm</c> in the state directory, a <see cref="TpmSealedBlob"/>)
/// and the file operations the vault's life needs: crash-safe writes and renames (temp file, fsync,
/// rename, fsync of the directory, so a power cut leaves the old or the new file, never a torn one)
/// and secure removal of a key file.
/// </summary>
public static unsafe class TpmVaultKeyFile
{
    public const string FileName = "vault.tpm";

    /// <summary>A vault.tpm written during a migration, promoted to <see cref="FileName"/> once the keys are re-encrypted.</summary>
    public const string PendingFileName = "vault.tpm.new";

    public const int KeySize = 32;

    /// <summary>
    /// A new random vault key: the TPM's generator XOR the operating system's, so the key is as good as the
    /// better of the two (a weak or backdoored TPM RNG alone cannot predict it, nor a bad kernel pool alone).
    /// </summary>
    public static SecureBuffer NewVaultKey(TpmSealedVaultKey tpm)
    {
        var fromTpm = tpm.GetRandom(KeySize);
        try
        {
            if (fromTpm.Length != KeySize)
                throw new TpmVaultException(TpmVaultFailureReason.TpmError, $"The TPM returned {fromTpm.Length} random bytes instead of {KeySize}.");
            var key = new SecureBuffer(KeySize);
            RandomNumberGenerator.Fill(key.Span);
            for (var i = 0; i < KeySize; i++) key.Span[i] ^= fromTpm[i];
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fromTpm);
        }
    }

    public static TpmSealedBlob Read(string path) => TpmSealedBlob.Parse(File.ReadAllBytes(path));

    /// <summary>Unseals the vault key in <paramref name="path"/>; the caller disposes the buffer (which zeroes it).</summary>
    public static SecureBuffer Unseal(TpmSealedVaultKey tpm, string path)
    {
        var key = tpm.Unseal(Read(path));
        if (key.Length == KeySize) return key;
        var length = key.Length;
        key.Dispose();
        throw new TpmVaultException(TpmVaultFailureReason.InvalidBlob,
            $"{path} unsealed to {length} bytes, not the {KeySize} of a vault key; restore it from backup or re-import the certificates with their private keys.");
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> (mode 0600) so that after a crash the file is either absent/old or complete.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        SyncDirectoryOf(path);
    }

    /// <summary>rename(2) then fsync of the directory: the rename is durable when this returns.</summary>
    public static void MoveDurably(string from, string to)
    {
        File.Move(from, to, overwrite: true);
        SyncDirectoryOf(to);
    }

    /// <summary>
    /// Overwrites the file with zeros, fsyncs, unlinks it and fsyncs the directory. On flash and journalling
    /// file systems the old blocks may survive the overwrite; it still removes the key from every ordinary
    /// read path, including backups of the state directory.
    /// </summary>
    public static void SecurelyDelete(string path)
    {
        if (!File.Exists(path)) return;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            var zeros = new byte[Math.Max(1, (int)Math.Min(stream.Length, 1 << 20))];
            for (long written = 0; written < stream.Length; written += zeros.Length)
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, stream.Length - written));
            stream.Flush(flushToDisk: true);
        }
        File.Delete(path);
        SyncDirectoryOf(path);
    }

    private static void SyncDirectoryOf(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = bytes) fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) throw new IOException($"Cannot open the directory {directory} to make a file change durable: errno {errno}.");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"fsync of the directory {directory} failed: errno {errno}.");
        }
        finally
        {
            close(fd);
        }
    }
}
