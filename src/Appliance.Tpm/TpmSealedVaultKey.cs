using System.Buffers.Binary;
using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Sessions;
using Appliance.Tpm.Transports;

namespace Appliance.Tpm;

/// <summary>
/// Seals the vault key as a KEYEDHASH data object under the owner hierarchy's ECC storage primary
/// (the tpm2-tools default template, re-created on each use, so nothing is persisted in the TPM),
/// optionally bound to SHA-256 PCRs with a PolicyPCR policy. Both directions run in a session salted
/// with the primary key: Create encrypts the key on its way in, Unseal on its way out, so the key
/// never crosses the TPM bus in clear.
/// </summary>
public sealed class TpmSealedVaultKey : IDisposable
{
    private const int LockoutAttempts = 3;

    private readonly ITpmTransport _transport;
    private readonly Tpm2Client _client;
    private readonly TpmRetryPolicy _retryPolicy;
    private readonly TimeProvider _timeProvider;

    /// <summary>Takes ownership of <paramref name="transport"/>.</summary>
    public TpmSealedVaultKey(ITpmTransport transport, TpmRetryPolicy? retryPolicy = null, TimeProvider? timeProvider = null)
    {
        _transport = transport;
        _retryPolicy = retryPolicy ?? TpmRetryPolicy.Default;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _client = new Tpm2Client(transport, _retryPolicy, _timeProvider);
    }

    /// <summary>
    /// Opens the TPM named by the --tpm option: a device path ("/dev/tpmrm0") or "swtpm:HOST:PORT"
    /// (then the simulator is powered on and started, as firmware would on real hardware).
    /// </summary>
    public static TpmSealedVaultKey Open(string tpm, TimeSpan timeout)
    {
        if (tpm.StartsWith("swtpm:", StringComparison.Ordinal))
        {
            var (host, port) = SwtpmTcpTransport.ParseAddress(tpm);
            var swtpm = new SwtpmTcpTransport(host, port, timeout);
            try
            {
                swtpm.PowerOnAndStartup();
            }
            catch
            {
                swtpm.Dispose();
                throw;
            }

            return new TpmSealedVaultKey(swtpm);
        }

        return new TpmSealedVaultKey(new TpmDeviceTransport(tpm, timeout));
    }

    /// <summary>Manufacturer and firmware version, for the status page.</summary>
    public TpmInfo GetInfo() => _client.GetInfo();

    /// <summary>Random bytes from the TPM's generator.</summary>
    public byte[] GetRandom(int count) => _client.GetRandom(count);

    /// <summary>
    /// Seals <paramref name="key"/> (at most 128 bytes: MAX_SYM_DATA). With <paramref name="pcrs"/>, only a
    /// TPM whose SHA-256 PCRs hold their current values can unseal it.
    /// </summary>
    public TpmSealedBlob Seal(ReadOnlySpan<byte> key, IReadOnlyCollection<int>? pcrs = null)
    {
        if (key.IsEmpty || key.Length > 128)
        {
            throw new ArgumentOutOfRangeException(nameof(key), key.Length, "A sealed data object holds 1 to 128 bytes.");
        }

        var keyCopy = key.ToArray();
        try
        {
            return WithRetries("sealing the vault key", () =>
            {
                var primary = _client.CreatePrimary(TpmRh.Owner, TpmtPublic.EccStoragePrimary);
                try
                {
                    var pcrValues = pcrs is { Count: > 0 } ? _client.PcrRead(TpmAlg.Sha256, pcrs) : new SortedDictionary<int, byte[]>();
                    var policy = pcrValues.Count == 0 ? [] : PcrPolicyDigest(pcrValues);
                    using var session = _client.StartAuthSession(TpmSe.Hmac, primary, TpmaSession.ContinueSession | TpmaSession.Decrypt);
                    try
                    {
                        var created = _client.Create(primary, TpmtPublic.SealedData(policy), keyCopy, session);
                        return new TpmSealedBlob(created.Public, created.Private, pcrValues);
                    }
                    finally
                    {
                        _client.TryFlushContext(session.Handle);
                    }
                }
                finally
                {
                    _client.TryFlushContext(primary.Handle);
                }
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }
    }

    /// <summary>Unseals the key into locked, non-dumpable memory; the caller disposes it (which zeroes it).</summary>
    public SecureBuffer Unseal(TpmSealedBlob blob) => WithRetries("unsealing the vault key", () =>
    {
        var primary = _client.CreatePrimary(TpmRh.Owner, TpmtPublic.EccStoragePrimary);
        try
        {
            var item = Load(primary, blob);
            try
            {
                var bound = blob.PcrValues.Count > 0;
                using var session = _client.StartAuthSession(bound ? TpmSe.Policy : TpmSe.Hmac, primary, TpmaSession.ContinueSession | TpmaSession.Encrypt);
                try
                {
                    if (bound)
                    {
                        _client.PolicyPcr(session, blob.Selection);
                    }

                    var data = UnsealOrExplain(item, session, blob);
                    try
                    {
                        return SecureBuffer.CopyOf(data);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(data);
                    }
                }
                finally
                {
                    _client.TryFlushContext(session.Handle);
                }
            }
            finally
            {
                _client.TryFlushContext(item.Handle);
            }
        }
        finally
        {
            _client.TryFlushContext(primary.Handle);
        }
    });

    public void Dispose() => _transport.Dispose();

    /// <summary>
    /// The policy digest TPM2_PolicyPCR produces in a fresh session (Part 3, 23.7):
    /// SHA-256(zeros || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA-256(PCR values in index order)).
    /// </summary>
    internal static byte[] PcrPolicyDigest(IReadOnlyDictionary<int, byte[]> pcrValues)
    {
        using var values = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var pcr in pcrValues.Keys.Order())
        {
            values.AppendData(pcrValues[pcr]);
        }

        Span<byte> selection = stackalloc byte[16];
        var writer = new Tpm2Writer(selection);
        TpmsPcrSelection.MarshalList(ref writer, [new TpmsPcrSelection(TpmAlg.Sha256, [.. pcrValues.Keys])]);
        Span<byte> commandCode = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(commandCode, (uint)TpmCc.PolicyPcr);

        using var policy = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        policy.AppendData(new byte[SHA256.HashSizeInBytes]);
        policy.AppendData(commandCode);
        policy.AppendData(writer.Written);
        policy.AppendData(values.GetHashAndReset());
        return policy.GetHashAndReset();
    }

    private LoadResult Load(CreatePrimaryResult primary, TpmSealedBlob blob)
    {
        try
        {
            return _client.Load(primary, blob.Private, blob.Public);
        }
        catch (TpmException e) when (e.Code is TpmResponseCode.Integrity or TpmResponseCode.Binding)
        {
            throw new TpmVaultException(
                TpmVaultFailureReason.SealedByOtherTpm,
                $"The vault key was sealed by a different TPM ({e.Command} answered 0x{e.ResponseCode:X3}): the disk was moved to another box or this TPM was cleared. Put the disk back in its box, or re-import the certificates with their private keys.",
                e);
        }
    }

    private byte[] UnsealOrExplain(LoadResult item, TpmAuthSession session, TpmSealedBlob blob)
    {
        try
        {
            return _client.Unseal(item, session);
        }
        catch (TpmException e) when (e.Code == TpmResponseCode.PolicyFail)
        {
            var current = _client.PcrRead(TpmAlg.Sha256, blob.PcrValues.Keys.ToArray());
            int[] changed = [.. blob.PcrValues.Keys.Where(pcr => !current.TryGetValue(pcr, out var value) || !value.AsSpan().SequenceEqual(blob.PcrValues[pcr])).Order()];
            var which = changed.Length > 0 ? string.Join(", ", changed) : string.Join(", ", blob.Pcrs) + " (no single PCR differs now; they may have changed and been reset)";
            throw new TpmVaultException(
                TpmVaultFailureReason.PcrMismatch,
                $"The vault key is bound to SHA-256 PCRs {string.Join(", ", blob.Pcrs)} and PCR {which} no longer holds the value it was sealed against: the boot chain changed. Boot the previous configuration, or re-import the certificates with their private keys.",
                e,
                changed);
        }
    }

    private T WithRetries<T>(string what, Func<T> operation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return operation();
            }
            catch (TpmException e) when (e.Code == TpmResponseCode.Lockout && attempt < LockoutAttempts)
            {
                Task.Delay(_retryPolicy.Delay * 10, _timeProvider).GetAwaiter().GetResult();
            }
            catch (TpmException e) when (e.Code == TpmResponseCode.Lockout)
            {
                throw new TpmVaultException(TpmVaultFailureReason.TpmLockedOut, $"The TPM refused {what} after {attempt} attempts: {e.Message}", e);
            }
            catch (TpmException e) when (e.IsTransient)
            {
                throw new TpmVaultException(TpmVaultFailureReason.TpmBusy, $"The TPM stayed busy while {what} after {_retryPolicy.Attempts} attempts: {e.Message}", e);
            }
            catch (TpmException e)
            {
                throw new TpmVaultException(TpmVaultFailureReason.TpmError, $"The TPM failed while {what}: {e.Message}", e);
            }
        }
    }
}
