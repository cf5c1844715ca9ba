namespace Appliance.Acme.Renewal;

/// <summary>The status word the admin sees (API and pages alike): the stored status, overlaid by an order running now.</summary>
public static class AutomatedStatus
{
    /// <summary>
    /// While an order runs (<see cref="RenewalScheduler.IsRunning"/>) the certificate is "pending" when none was issued
    /// yet and "renewing" otherwise; else its stored status in lower case (pending|valid|renewing|error).
    /// </summary>
    public static string Of(AutomatedCertificate certificate, bool running) =>
        running ? (certificate.CertificateId is null ? "pending" : "renewing") : certificate.Status.ToString().ToLowerInvariant();
}
