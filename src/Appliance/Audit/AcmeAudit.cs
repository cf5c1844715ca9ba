using Appliance.Acme;

namespace Appliance.Audit;

/// <summary>The audit log's words for ACME changes, shared by the API and the Security pages.</summary>
internal static class AcmeAudit
{
    public static string Registered(AcmeServer server) => $"Registered the ACME server {server.DirectoryUrl}{(server.Email is null ? "" : $" (account email {server.Email})")}";
    public static string DeletedServer(AcmeServer server) => $"Deleted the ACME server {server.DirectoryUrl}";
    public static string Requested(AutomatedCertificate c) => $"Requested an automated certificate for {c.Hostname} ({c.KeyType})";
    public static string DeletedCertificate(AutomatedCertificate c) => $"Deleted the automated certificate for {c.Hostname}";
    public static string Renewing(AutomatedCertificate c) => $"Started renewing the automated certificate for {c.Hostname} now";
}
