using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Store;

/// <summary>
/// The factory certificate's stand-in while the vault is closed (sealed by another TPM, PCR mismatch, TPM
/// unavailable). The stored factory key is sealed like every other key, so it cannot sign handshakes then;
/// yet the box must still answer TLS so the admin can reach the UI and read what to do. Choice: a new
/// ECDSA P-256 key made and held in memory only, with the stored factory certificate's subject, names and
/// notAfter, self-signed. Nothing is written: the stored factory certificate and its sealed key stay as
/// they are and come back when the original TPM does, and no key ever sits on disk unsealed (a separate
/// factory-only software key would have been exactly that). Clients see a new fingerprint for the factory
/// certificate while the vault is closed; it is self-signed and untrusted either way.
/// </summary>
internal sealed class FactoryStandIn(TimeProvider time)
{
    private readonly Lock _standInLock = new();
    private X509Certificate2? _standIn;
    private ECDsa? _standInKey;

    /// <summary>The stand-in of <paramref name="factory"/> with its in-memory key; made once, a new copy per call for the caller to dispose.</summary>
    public X509Certificate2 For(StoredCertificate factory)
    {
        lock (_standInLock)
        {
            if (_standIn is null)
            {
                _standInKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var request = new CertificateRequest(factory.Certificate.SubjectName, _standInKey, HashAlgorithmName.SHA256);
                foreach (var extension in factory.Certificate.Extensions)
                    if (extension.Oid?.Value is not ("2.5.29.14" or "2.5.29.35")) // key identifiers belong to the stored key
                        request.CertificateExtensions.Add(extension);
                request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
                var now = time.GetUtcNow();
                using var selfSigned = request.CreateSelfSigned(now.AddMinutes(-5), new DateTimeOffset(factory.Certificate.NotAfter.ToUniversalTime()));
                _standIn = X509CertificateLoader.LoadCertificate(selfSigned.RawData); // public part only: each caller gets its own copy with the key
            }
            return _standIn.CopyWithPrivateKey(_standInKey!);
        }
    }
}
