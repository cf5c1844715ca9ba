using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Appliance.Acme.Protocol;

/// <summary>
/// An ACME account key: ECDSA P-256, signing ES256 (RFC 7518 section 3.4, r||s). Holds the key in memory
/// only; persistence is the caller's (sealed by the vault).
/// </summary>
public sealed class AcmeAccountKey : IDisposable
{
    private readonly ECDsa _key;

    private AcmeAccountKey(ECDsa key)
    {
        if (key.KeySize != 256) throw new ArgumentException("ACME account keys are ECDSA P-256.", nameof(key));
        _key = key;
        var parameters = key.ExportParameters(false);
        Jwk = new EcJwk("P-256", "EC", Base64Url.EncodeToString(parameters.Q.X), Base64Url.EncodeToString(parameters.Q.Y));
        // RFC 7638 section 3: the required members in lexicographic order, no white space.
        var canonical = $"{{\"crv\":\"{Jwk.Crv}\",\"kty\":\"{Jwk.Kty}\",\"x\":\"{Jwk.X}\",\"y\":\"{Jwk.Y}\"}}";
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)));
    }

    public static AcmeAccountKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static AcmeAccountKey FromPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return new AcmeAccountKey(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public EcJwk Jwk { get; }

    /// <summary>The RFC 7638 JWK thumbprint, base64url.</summary>
    public string Thumbprint { get; }

    public byte[] ExportPkcs8() => _key.ExportPkcs8PrivateKey();

    /// <summary>The http-01 key authorization for a challenge token (RFC 8555 section 8.1).</summary>
    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    /// <summary>
    /// A flattened JWS over <paramref name="payload"/> (null for POST-as-GET, which signs the empty string,
    /// RFC 8555 section 6.3). Before registration the header carries the JWK, after it the account URL as kid (6.2).
    /// </summary>
    internal JwsMessage Sign(byte[]? payload, string url, string? nonce, string? accountUrl)
    {
        var header = new JwsHeader("ES256", accountUrl is null ? Jwk : null, accountUrl, nonce, url);
        var protectedPart = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(header, AcmeJson.Default.JwsHeader));
        var payloadPart = payload is null ? "" : Base64Url.EncodeToString(payload);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new JwsMessage(protectedPart, payloadPart, Base64Url.EncodeToString(signature));
    }

    /// <summary>
    /// The external account binding of RFC 8555 section 7.3.4: a JWS over this key's JWK, MACed with HS256 under
    /// the CA-provided key, with the CA's key id as kid and the newAccount URL.
    /// </summary>
    internal JwsMessage ExternalAccountBinding(string keyId, ReadOnlySpan<byte> macKey, string newAccountUrl)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $"{{\"alg\":\"HS256\",\"kid\":{JsonSerializer.Serialize(keyId, AcmeJson.Default.String)},\"url\":{JsonSerializer.Serialize(newAccountUrl, AcmeJson.Default.String)}}}"));
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(Jwk, AcmeJson.Default.EcJwk));
        var mac = HMACSHA256.HashData(macKey, Encoding.ASCII.GetBytes(header + "." + payload));
        return new JwsMessage(header, payload, Base64Url.EncodeToString(mac));
    }

    /// <summary>Verifies an ES256 signature made by this key (tests and key rollover checks).</summary>
    internal bool Verify(JwsMessage message) =>
        _key.VerifyData(Encoding.ASCII.GetBytes(message.Protected + "." + message.Payload), Base64Url.DecodeFromChars(message.Signature),
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => _key.Dispose();

    public override string ToString() => "ACME account key " + Thumbprint;
}
