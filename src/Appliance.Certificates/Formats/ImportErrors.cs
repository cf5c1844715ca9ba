namespace Appliance.Certificates.Formats;

/// <summary>The import refusals used in more than one reader, with their exact texts.</summary>
internal static class ImportErrors
{
    internal const string Formats = "PEM or DER certificates, PKCS#7 (.p7b), PKCS#12 (.pfx/.p12), PKCS#8 or OpenSSL private keys";

    internal static CertificateImportException Damaged(string fileName, string what, Exception? inner = null) =>
        new(ImportFailureReason.TruncatedOrCorrupt, fileName,
            $"{fileName}: {what}. The file is damaged or incomplete; export it again from its source and upload the new file.", inner);

    internal static CertificateImportException Unrecognized(string fileName, string what) =>
        new(ImportFailureReason.UnrecognizedFormat, fileName,
            $"{fileName}: {what}. Upload {Formats}.");

    internal static CertificateImportException PasswordRequired(string fileName, string what) =>
        new(ImportFailureReason.PasswordRequired, fileName,
            $"{fileName}: {what} is protected by a password. Enter the password and upload the file again.");

    internal static CertificateImportException WrongPassword(string fileName, string what) =>
        new(ImportFailureReason.WrongPassword, fileName,
            $"{fileName}: the password is wrong for {what}. Check the password (it is case-sensitive) and upload the file again.");

    internal static CertificateImportException TooMany(string fileName, int found) =>
        new(ImportFailureReason.TooManyObjects, fileName,
            $"{fileName}: the file holds {found} certificates or keys; at most {CertificateFileReader.MaxCertificatesPerFile} are accepted per file. Split it into smaller files.");
}
