namespace Appliance.Edge;

/// <summary>What one certificate upload (API import and the Import page alike) may hold; each refusal names its limit.</summary>
internal static class UploadLimits
{
    /// <summary>The whole multipart body; larger answers 413.</summary>
    public const long MaxBytes = 10 * 1024 * 1024;

    /// <summary>
    /// Files in one upload: the store's own limit (a chain, its key and a few bundles fit many times over), checked here
    /// too so that no more files than can be imported are read into memory.
    /// </summary>
    public const int MaxFiles = Appliance.Certificates.Store.CertificateStore.MaxFilesPerImport;

    /// <summary>A file's name as shown in the certificate's import words (ext4 allows no longer name).</summary>
    public const int MaxFileNameLength = 255;

    /// <summary>The password for encrypted files (PKCS#12, encrypted PEM keys).</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>The words for a body over <see cref="MaxBytes"/> once reading it failed (no Content-Length was sent).</summary>
    public static string TooLarge => $"The upload is larger than the {MaxBytes / (1024 * 1024)} MB accepted; import fewer or smaller files at a time.";
}
