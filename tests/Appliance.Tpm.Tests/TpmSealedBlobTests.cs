using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Tests;

public sealed class TpmSealedBlobTests
{
    private static readonly byte[] Public = TpmtPublic.SealedData([]).ToTpm2B();
    private static readonly byte[] Private = [0x00, 0x03, 0xAA, 0xBB, 0xCC];

    [Fact]
    public void ABlobSurvivesTheFileFormat()
    {
        var values = new SortedDictionary<int, byte[]> { [7] = Enumerable.Repeat((byte)7, 32).ToArray(), [0] = new byte[32] };
        var blob = new TpmSealedBlob(Public, Private, values);

        var parsed = TpmSealedBlob.Parse(blob.ToBytes());

        Assert.Equal(Public, parsed.Public);
        Assert.Equal(Private, parsed.Private);
        Assert.Equal([0, 7], parsed.Pcrs);
        Assert.Equal(values[7], parsed.PcrValues[7]);
    }

    [Fact]
    public void TheFileStartsWithItsMagicAndVersion() =>
        Assert.StartsWith("4154564B0100", Convert.ToHexString(new TpmSealedBlob(Public, Private, new Dictionary<int, byte[]>()).ToBytes()));

    [Fact]
    public void ATruncatedFileIsAnInvalidBlobThatSaysWhatToDo()
    {
        var bytes = new TpmSealedBlob(Public, Private, new Dictionary<int, byte[]>()).ToBytes();

        var error = Assert.Throws<TpmVaultException>(() => TpmSealedBlob.Parse(bytes.AsSpan(0, bytes.Length - 1)));

        Assert.Equal(TpmVaultFailureReason.InvalidBlob, error.Reason);
        Assert.Equal("The sealed vault key file is damaged or not ours (TPM data ends after 26 bytes; 3 more were expected at offset 24.); restore it from backup or re-import the certificates with their keys.", error.Message);
    }

    [Fact]
    public void AFileOfAnotherProgramIsAnInvalidBlob() =>
        Assert.Equal(TpmVaultFailureReason.InvalidBlob, Assert.Throws<TpmVaultException>(() => TpmSealedBlob.Parse("-----BEGIN"u8)).Reason);
}
