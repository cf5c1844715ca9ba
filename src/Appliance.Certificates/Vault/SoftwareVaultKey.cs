using System.Security.Cryptography;
using Appliance.Platform.Files;

namespace Appliance.Certificates.Vault;

/// <summary>
/// The software vault key: 32 random bytes in <c>vault.key</c> (mode 0600) in the state directory.
/// Used only with <c>--key-protection software</c>; keys are then as safe as the disk. Written durably (file and
/// directory fsynced): a key lost to a power cut after certificates were stored under it would lose their keys.
/// </summary>
public static class SoftwareVaultKey
{
    public const string FileName = "vault.key";

    public static byte[] LoadOrCreate(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        if (File.Exists(path))
        {
            var key = File.ReadAllBytes(path);
            if (key.Length != 32)
                throw new InvalidOperationException($"{path} holds {key.Length} bytes, not the 32 of a vault key; restore it from a backup or move the state directory aside to start afresh (stored keys are then lost).");
            return key;
        }
        var created = RandomNumberGenerator.GetBytes(32);
        DurableFile.Write(path, created);
        return created;
    }
}
