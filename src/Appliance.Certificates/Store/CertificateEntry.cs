using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Store;

/// <summary>
/// One stored certificate as the store keeps it in memory, once per process (rows are immutable, keyed by their
/// SHA-256): the DER, what was derived from it, and the X.509 object, parsed on first use only.
/// </summary>
internal sealed class CertificateEntry
{
    private CertificateEntry(byte[] der, DerivedCertificateData data, Lazy<X509Certificate2> certificate)
    {
        Der = der;
        Data = data;
        Certificate = certificate;
    }

    public byte[] Der { get; }
    public DerivedCertificateData Data { get; }
    public Lazy<X509Certificate2> Certificate { get; }
    public string Sha256 => Data.Facts.Sha256Fingerprint;

    /// <summary>A row whose derived data was read from the database: nothing is parsed until someone asks.</summary>
    public static CertificateEntry Stored(byte[] der, DerivedCertificateData data) =>
        new(der, data, new Lazy<X509Certificate2>(() => X509CertificateLoader.LoadCertificate(der)));

    /// <summary>A certificate at hand (being stored, or a row without derived data): the data is read from it now.</summary>
    public static CertificateEntry Parsed(X509Certificate2 certificate)
    {
        // Entries live as long as the process: a private key stays in the vault, never here.
        var publicOnly = certificate.HasPrivateKey ? X509CertificateLoader.LoadCertificate(certificate.RawData) : certificate;
        return new(publicOnly.RawData, DerivedCertificateData.Read(publicOnly), new Lazy<X509Certificate2>(publicOnly));
    }
}
