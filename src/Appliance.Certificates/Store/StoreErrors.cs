namespace Appliance.Certificates.Store;

/// <summary>The refusals several store operations share, worded once.</summary>
internal static class StoreErrors
{
    public static CertificateStoreException CertificateNotFound(string id) =>
        new(StoreFailure.NotFound, $"There is no certificate with id '{id}'; it may have been deleted. Reload the certificate list.");

    public static CertificateStoreException RequestNotFound(string id) =>
        new(StoreFailure.NotFound, $"There is no certificate request with id '{id}'; it may have been deleted. Reload the list.");
}
