using Appliance.Certificates.Store;
using Appliance.Hosting;
using Appliance.Platform;

namespace Appliance.Ui;

/// <summary>Status > Basics: facts of the box, key protection, which certificate answers where, and the expiries.</summary>
internal static class StatusPages
{
    public static StatusPage Build(LayoutModel layout, SystemFacts facts, KeyVaultState keyVault, CertificateStore store, PartitionUsage storage, DateTimeOffset now)
    {
        var certificates = store.ListCertificates();
        var addresses = Addresses(facts, store, certificates);
        var interfaces = facts.Interfaces().Select(i => new InterfaceRow(i.Name, i.MacAddress, i.IsUp,
            addresses.Where(a => a.Interface == i.Name).ToList())).ToList();
        var leaves = certificates.Where(c => !c.Facts.IsCertificateAuthority).OrderBy(c => c.Facts.NotAfter).ToList();
        var expiries = leaves.Select(c =>
        {
            var days = (int)Math.Floor((c.Facts.NotAfter - now).TotalDays);
            return new ExpiryRow(c.Id, c.FriendlyName, c.Facts.CommonName, c.Facts.NotAfter, days,
                c.Facts.NotAfter <= now ? "bad" : days < ExpiryTimeline.SoonDays ? "warn" : "ok");
        }).ToList();
        var tpm = keyVault.Vault.Protection != "software";
        return new StatusPage(layout, facts.HostName, facts.Model, facts.SerialNumber, ApplianceVersion.Text, Uptime(facts.UptimeSeconds),
            tpm, tpm ? keyVault.Tpm?.Manufacturer : null, tpm ? keyVault.Tpm?.FirmwareVersion : null,
            keyVault.Detail, keyVault.State == "open", VaultStateWords(keyVault.State), interfaces, certificates.Count,
            certificates.FirstOrDefault(c => c.IsDefault)?.FriendlyName, expiries,
            ExpiryTimeline.Build(leaves.Select(c => (c.FriendlyName, c.Facts.NotAfter)), now),
            new StorageRow(StatePartition.Bytes(storage.UsedBytes), StatePartition.Bytes(storage.FreeBytes), StatePartition.Bytes(storage.TotalBytes),
                storage.UsedPercent.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "%", StatePartition.Warning(storage)));
    }

    /// <summary>The vault's state (status <c>vault.state</c>) in the words of Status > Basics.</summary>
    public static string VaultStateWords(string state) => state switch
    {
        "open" => "Open",
        "sealedByOtherTpm" => "Sealed by another TPM: private keys unavailable",
        "pcrMismatch" => "Locked: the boot measurements (PCRs) changed; private keys unavailable",
        _ => "Unavailable: private keys cannot be used",
    };

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
