using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Hosting;
using Appliance.Platform;

namespace Appliance.Ui;

/// <summary>Status > Basics and Networking > IP Configuration: facts of the box and which certificate answers where.</summary>
internal static class StatusPages
{
    public static StatusPage Build(LayoutModel layout, SystemFacts facts, IKeyVault vault, CertificateStore store, DateTimeOffset now)
    {
        var certificates = store.ListCertificates();
        var addresses = Addresses(facts, store, certificates);
        var interfaces = facts.Interfaces().Select(i => new InterfaceRow(i.Name, i.MacAddress, i.IsUp,
            addresses.Where(a => a.Interface == i.Name).ToList())).ToList();
        var leaves = certificates.Where(c => !c.Facts.IsCertificateAuthority).OrderBy(c => c.Facts.NotAfter).ToList();
        var expiries = leaves.Select(c =>
        {
            var days = (int)Math.Floor((c.Facts.NotAfter - now).TotalDays);
            return new ExpiryRow(c.FriendlyName, c.Facts.CommonName, c.Facts.NotAfter, days,
                c.Facts.NotAfter <= now ? "bad" : days < ExpiryTimeline.SoonDays ? "warn" : "ok");
        }).ToList();
        var software = vault.Protection == "software";
        var detail = !vault.IsOpen
            ? (vault as AesGcmKeyVault)?.UnavailableReason ?? "The key vault is not open: private keys cannot be used."
            : software
                ? "Not TPM-protected: private keys are encrypted with a key stored on this appliance's disk (software key protection)."
                : "Private keys are sealed by this appliance's TPM 2.0.";
        return new StatusPage(layout, facts.HostName, facts.Model, facts.SerialNumber, ApplianceVersion.Text, Uptime(facts.UptimeSeconds),
            !software, detail, vault.IsOpen, interfaces, certificates.Count,
            certificates.FirstOrDefault(c => c.IsDefault)?.FriendlyName, expiries,
            ExpiryTimeline.Build(leaves.Select(c => (c.FriendlyName, c.Facts.NotAfter)), now));
    }

    public static IReadOnlyList<AddressRow> Addresses(SystemFacts facts, CertificateStore store) =>
        Addresses(facts, store, store.ListCertificates());

    /// <summary>Each address with the certificate a client without SNI gets there, and why (DESIGN.md selection steps 2 to 4).</summary>
    private static List<AddressRow> Addresses(SystemFacts facts, CertificateStore store, IReadOnlyList<StoredCertificate> certificates)
    {
        var fallback = certificates.FirstOrDefault(c => c.IsDefault) is { } d
            ? (d.FriendlyName, "default certificate")
            : (certificates.FirstOrDefault(c => c.IsFactory)?.FriendlyName ?? "none", "factory certificate (no default certificate is set)");
        return facts.Interfaces(includeLoopback: true)
            .SelectMany(i => i.Addresses)
            .Select(a => certificates.FirstOrDefault(c => c.BoundAddresses.Contains(a.Address)) is { } bound
                ? new AddressRow(a.Interface, a.Address, a.PrefixLength, a.Family, bound.FriendlyName, "assigned to this address")
                : new AddressRow(a.Interface, a.Address, a.PrefixLength, a.Family, fallback.Item1, fallback.Item2))
            .ToList();
    }

    public static string Uptime(long seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalDays >= 1 ? $"{(int)t.TotalDays} d {t.Hours} h {t.Minutes} min" : t.TotalHours >= 1 ? $"{t.Hours} h {t.Minutes} min" : $"{t.Minutes} min {t.Seconds} s";
    }
}
