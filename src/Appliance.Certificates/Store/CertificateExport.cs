using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Export as a pure function over the stored certificates and a key opener: what may be exported in which format
/// (a private key only with a passphrase of <see cref="CertificateExporter.MinPassphraseLength"/> characters or more,
/// or, after the admin's explicit confirmation, in clear as PEM; PKCS#7 without keys, PKCS#12 one certificate at a time) and the file it makes. Opened keys are disposed (zeroed) here.
/// </summary>
internal static class CertificateExport
{
    public static ExportedFile Export(ExportSpec spec, IReadOnlyList<StoredCertificate> stored, Func<string, PrivateKeyMaterial> openKey)
    {
        if (spec.Ids.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "Select at least one certificate to export.");
        var selected = spec.Ids.Distinct().Select(id => stored.FirstOrDefault(c => c.Id == id) ?? throw StoreErrors.CertificateNotFound(id)).ToList();
        if (!spec.Certificate && !spec.PrivateKey && !spec.Chain)
            throw new CertificateStoreException(StoreFailure.Invalid, "Choose what to export: the certificate, the private key, the chain, or several of them.");
        if (spec.PrivateKey && spec.UnencryptedPrivateKey)
        {
            if (!string.IsNullOrEmpty(spec.Passphrase))
                throw new CertificateStoreException(StoreFailure.Invalid,
                    "A passphrase was given together with the confirmation to export the private key unencrypted; give one or the other (the passphrase is strongly recommended).");
            if (spec.Format != ExportFormat.Pem)
                throw new CertificateStoreException(StoreFailure.Invalid,
                    $"A private key is exported without a passphrase only as PEM; choose PEM, or keep {spec.Format.ToString().ToUpperInvariant()} and set a passphrase of at least {CertificateExporter.MinPassphraseLength} characters.");
        }
        else if (spec.PrivateKey)
        {
            if (spec.Passphrase is null || spec.Passphrase.Length < CertificateExporter.MinPassphraseLength)
                throw new CertificateStoreException(StoreFailure.Invalid,
                    $"A private key is exported only with a passphrase of at least {CertificateExporter.MinPassphraseLength} characters; enter one and keep it safe.");
        }
        if (spec.PrivateKey && selected.FirstOrDefault(c => !c.HasPrivateKey) is { } keyless)
            throw new CertificateStoreException(StoreFailure.Invalid, $"'{keyless.FriendlyName}' has no private key on this appliance; export it without the private key.");
        var baseName = selected.Count == 1 ? SafeFileName(selected[0].FriendlyName) : "certificates";

        List<X509Certificate2> ChainOf(StoredCertificate c) =>
            c.Chain.Skip(1).Select(id => stored.First(a => a.Id == id).Certificate).ToList();

        switch (spec.Format)
        {
            case ExportFormat.Pkcs7:
                if (spec.PrivateKey)
                    throw new CertificateStoreException(StoreFailure.Invalid, "A PKCS#7 file holds certificates only; export private keys individually as PEM or PKCS#12.");
                var bundle = new List<X509Certificate2>();
                foreach (var c in selected)
                {
                    if (spec.Certificate || !spec.Chain) bundle.Add(c.Certificate);
                    if (spec.Chain) bundle.AddRange(ChainOf(c));
                }
                return new ExportedFile(baseName + ".p7b", "application/pkcs7-mime",
                    CertificateExporter.ToPkcs7(bundle.DistinctBy(c => c.Thumbprint)));

            case ExportFormat.Pkcs12:
                if (selected.Count != 1)
                    throw new CertificateStoreException(StoreFailure.Invalid, "PKCS#12 export takes one certificate at a time; export each individually or choose PKCS#7 for certificates only.");
                var one = selected[0];
                using (var key = spec.PrivateKey ? openKey(one.KeyId!) : null)
                {
                    var bytes = CertificateExporter.ToPkcs12(one.Certificate, key, spec.Chain ? ChainOf(one) : [], spec.Passphrase ?? "", one.FriendlyName);
                    return new ExportedFile(baseName + ".p12", "application/x-pkcs12", bytes);
                }

            default:
                var pem = new StringBuilder();
                foreach (var c in selected)
                {
                    if (spec.Certificate) pem.Append(CertificateExporter.ToPem([c.Certificate]));
                    if (spec.Chain) pem.Append(CertificateExporter.ToPem(ChainOf(c)));
                    if (spec.PrivateKey)
                    {
                        using var key = openKey(c.KeyId!);
                        pem.Append(spec.UnencryptedPrivateKey ? CertificateExporter.ToPkcs8Pem(key) : CertificateExporter.ToEncryptedPkcs8Pem(key, spec.Passphrase!));
                        if (pem.Length > 0 && pem[^1] != '\n') pem.Append('\n');
                    }
                }
                return new ExportedFile(baseName + ".pem", "application/x-pem-file", Encoding.ASCII.GetBytes(pem.ToString()));
        }
    }

    private static string SafeFileName(string name)
    {
        var safe = new string(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray()).Trim('.');
        return safe.Length == 0 ? "certificate" : safe;
    }
}
