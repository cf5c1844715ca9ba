using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Sessions;

namespace Appliance.Tpm;

/// <summary>How often and how long to wait on a TPM that says "busy" (RETRY, YIELDED, TESTING, NV_RATE).</summary>
public sealed record TpmRetryPolicy(int Attempts, TimeSpan Delay)
{
    public static TpmRetryPolicy Default { get; } = new(5, TimeSpan.FromMilliseconds(200));
}

/// <summary>The TPM's identity for the status page.</summary>
public sealed record TpmInfo(string Manufacturer, string FirmwareVersion);

internal delegate T ResponseParser<out T>(ReadOnlySpan<byte> response);

internal delegate void ResponseCheck(ReadOnlySpan<byte> response);

/// <summary>
/// Runs the pure command functions of <see cref="Tpm2Commands"/> over a transport: build, transmit,
/// parse. Transient warnings are retried per <see cref="TpmRetryPolicy"/>; everything else throws.
/// </summary>
internal sealed class Tpm2Client(ITpmTransport transport, TpmRetryPolicy retryPolicy, TimeProvider timeProvider)
{
    public Tpm2Client(ITpmTransport transport)
        : this(transport, TpmRetryPolicy.Default, TimeProvider.System)
    {
    }

    /// <summary>Starts the TPM; false when it was already started (TPM_RC_INITIALIZE), as on any booted machine.</summary>
    public bool Startup(TpmSu startupType)
    {
        try
        {
            Run(() => Tpm2Commands.BuildStartup(startupType), Tpm2Commands.ParseStartupResponse);
            return true;
        }
        catch (TpmException e) when (e.Code == TpmResponseCode.Initialize)
        {
            return false;
        }
    }

    public TpmInfo GetInfo()
    {
        var result = Run(
            () => Tpm2Commands.BuildGetCapability(TpmCap.TpmProperties, (uint)TpmPt.FamilyIndicator, (uint)(TpmPt.FirmwareVersion2 - TpmPt.FamilyIndicator + 1)),
            Tpm2Commands.ParseGetCapabilityResponse);
        uint Get(TpmPt property) => result.Properties.FirstOrDefault(p => p.Property == property)?.Value
            ?? throw new TpmFormatException($"TPM2_GetCapability did not return property 0x{(uint)property:X}.");
        return new TpmInfo(
            Tpm2Commands.DecodeManufacturer(Get(TpmPt.Manufacturer)),
            Tpm2Commands.DecodeFirmwareVersion(Get(TpmPt.FirmwareVersion1), Get(TpmPt.FirmwareVersion2)));
    }

    public byte[] GetRandom(int count)
    {
        var result = new byte[count];
        for (var offset = 0; offset < count;)
        {
            var chunk = Run(() => Tpm2Commands.BuildGetRandom((ushort)Math.Min(32, count - offset)), Tpm2Commands.ParseGetRandomResponse);
            if (chunk.Length == 0)
            {
                throw new TpmFormatException("TPM2_GetRandom returned no bytes.");
            }

            chunk.AsSpan(0, Math.Min(chunk.Length, count - offset)).CopyTo(result.AsSpan(offset));
            offset += chunk.Length;
        }

        return result;
    }

    public CreatePrimaryResult CreatePrimary(uint hierarchy, TpmtPublic template) =>
        Run(() => Tpm2Commands.BuildCreatePrimary(hierarchy, template, PasswordAuthorization.Empty),
            response => Tpm2Commands.ParseCreatePrimaryResponse(response, PasswordAuthorization.Empty));

    public CreateResult Create(CreatePrimaryResult parent, TpmtPublic template, ReadOnlySpan<byte> data, ITpmAuthorization parentAuthorization)
    {
        var dataCopy = data.ToArray();
        try
        {
            return Run(() => Tpm2Commands.BuildCreate(parent.Handle, parent.Name, template, [], dataCopy, parentAuthorization),
                response => Tpm2Commands.ParseCreateResponse(response, parentAuthorization));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataCopy);
        }
    }

    public LoadResult Load(CreatePrimaryResult parent, byte[] privateTpm2B, byte[] publicTpm2B) =>
        Run(() => Tpm2Commands.BuildLoad(parent.Handle, parent.Name, privateTpm2B, publicTpm2B, PasswordAuthorization.Empty),
            response => Tpm2Commands.ParseLoadResponse(response, PasswordAuthorization.Empty));

    public byte[] Unseal(LoadResult item, ITpmAuthorization itemAuthorization) =>
        Run(() => Tpm2Commands.BuildUnseal(item.Handle, item.Name, itemAuthorization),
            response => Tpm2Commands.ParseUnsealResponse(response, itemAuthorization));

    public void FlushContext(uint handle) =>
        Run(() => Tpm2Commands.BuildFlushContext(handle), Tpm2Commands.ParseFlushContextResponse);

    /// <summary>Flushes without letting a failure hide the exception that is already on its way.</summary>
    public void TryFlushContext(uint handle)
    {
        try
        {
            FlushContext(handle);
        }
        catch (Exception e) when (e is TpmException or TpmFormatException or IOException or TimeoutException)
        {
        }
    }

    /// <summary>
    /// Starts a session salted with <paramref name="saltKey"/> (an ECC storage key) so that its session key is
    /// known only to us and the TPM; without a salt key, an unsalted session (policy trials, tests).
    /// ECC salt (Part 1, C.6.1 and 11.4.10.3): an ephemeral P-256 key; salt = KDFe(SHA-256, Z, "SECRET", ephemeral.x, tpmKey.x, 256).
    /// </summary>
    public TpmAuthSession StartAuthSession(TpmSe type, CreatePrimaryResult? saltKey, TpmaSession attributes)
    {
        var nonceCaller = RandomNumberGenerator.GetBytes(TpmAuthSession.NonceSize);
        byte[] salt = [];
        byte[] encryptedSalt = [];
        if (saltKey is not null)
        {
            (salt, encryptedSalt) = MakeEccSalt(saltKey.Public);
        }

        try
        {
            var result = Run(
                () => Tpm2Commands.BuildStartAuthSession(saltKey?.Handle ?? TpmRh.Null, TpmRh.Null, nonceCaller, encryptedSalt, type, TpmtSymDef.Aes128Cfb, TpmAlg.Sha256),
                Tpm2Commands.ParseStartAuthSessionResponse);
            var sessionKey = TpmAuthSession.DeriveSessionKey(salt, result.NonceTpm, nonceCaller);
            return new TpmAuthSession(result.Handle, type, sessionKey, nonceCaller, result.NonceTpm, attributes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salt);
        }
    }

    public void PolicyPcr(TpmAuthSession session, TpmsPcrSelection selection) =>
        Run(() => Tpm2Commands.BuildPolicyPcr(session.Handle, [], selection), Tpm2Commands.ParsePolicyPcrResponse);

    public byte[] PolicyGetDigest(TpmAuthSession session) =>
        Run(() => Tpm2Commands.BuildPolicyGetDigest(session.Handle), Tpm2Commands.ParsePolicyGetDigestResponse);

    /// <summary>Reads the selected PCRs of one bank, eight per command (TPML_DIGEST's limit), in index order.</summary>
    public SortedDictionary<int, byte[]> PcrRead(TpmAlg bank, IReadOnlyCollection<int> pcrs)
    {
        var values = new SortedDictionary<int, byte[]>();
        var pending = pcrs.Distinct().Order().ToList();
        while (pending.Count > 0)
        {
            var result = Run(() => Tpm2Commands.BuildPcrRead(new TpmsPcrSelection(bank, [.. pending])), Tpm2Commands.ParsePcrReadResponse);
            var returned = result.Selections.Where(s => s.Hash == bank).SelectMany(s => s.Pcrs).Order().ToArray();
            if (returned.Length != result.Digests.Length || returned.Length == 0)
            {
                throw new TpmFormatException($"TPM2_PCR_Read returned {result.Digests.Length} digests for {returned.Length} selected PCRs of bank 0x{(ushort)bank:X4}; is the bank allocated?");
            }

            for (var i = 0; i < returned.Length; i++)
            {
                values[returned[i]] = result.Digests[i];
                pending.Remove(returned[i]);
            }
        }

        return values;
    }

    public void PcrExtend(int pcr, TpmAlg bank, ReadOnlySpan<byte> digest)
    {
        var digestCopy = digest.ToArray();
        Run(() => Tpm2Commands.BuildPcrExtend(pcr, bank, digestCopy, PasswordAuthorization.Empty),
            response => Tpm2Commands.ParsePcrExtendResponse(response, PasswordAuthorization.Empty));
    }

    private static (byte[] Salt, byte[] EncryptedSalt) MakeEccSalt(TpmtPublic tpmKey)
    {
        if (tpmKey.Type != TpmAlg.Ecc || tpmKey.EccParameters?.Curve != TpmEccCurve.NistP256 || tpmKey.EccUnique is null)
        {
            throw new NotSupportedException("Only a NIST P-256 storage key can salt a session.");
        }

        var curve = ECCurve.NamedCurves.nistP256;
        using var tpmPublic = ECDiffieHellman.Create(new ECParameters
        {
            Curve = curve,
            Q = new ECPoint { X = LeftPad(tpmKey.EccUnique.X, 32), Y = LeftPad(tpmKey.EccUnique.Y, 32) },
        });
        using var ephemeral = ECDiffieHellman.Create(curve);
        var z = ephemeral.DeriveRawSecretAgreement(tpmPublic.PublicKey);
        try
        {
            var q = ephemeral.ExportParameters(includePrivateParameters: false).Q;
            var salt = TpmKdf.KdfE(z, "SECRET", q.X, tpmKey.EccUnique.X, 256);
            Span<byte> buffer = stackalloc byte[80];
            var writer = new Tpm2Writer(buffer);
            new TpmsEccPoint(q.X!, q.Y!).Marshal(ref writer);
            return (salt, writer.ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(z);
        }
    }

    private static byte[] LeftPad(byte[] value, int length) =>
        value.Length >= length ? value : [.. new byte[length - value.Length], .. value];

    private void Run(Func<byte[]> build, ResponseCheck parse) => Run(build, response =>
    {
        parse(response);
        return true;
    });

    private T Run<T>(Func<byte[]> build, ResponseParser<T> parse)
    {
        for (var attempt = 1; ; attempt++)
        {
            var command = build();
            byte[] response;
            try
            {
                response = transport.Transmit(command);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(command);
            }

            try
            {
                return parse(response);
            }
            catch (TpmException e) when (e.IsTransient && attempt < retryPolicy.Attempts)
            {
                Sleep(retryPolicy.Delay);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(response);
            }
        }
    }

    private void Sleep(TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
        {
            Task.Delay(delay, timeProvider).GetAwaiter().GetResult();
        }
    }
}
