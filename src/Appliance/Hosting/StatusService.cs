using Appliance.Api;
using Appliance.Certificates.Vault;
using Appliance.Platform;

namespace Appliance.Hosting;

/// <summary>Status > Basics: what support asks a screenshot of.</summary>
internal sealed class StatusService(SystemFacts facts, IKeyVault vault)
{
    public StatusDto Read() => new(
        facts.HostName,
        facts.Model,
        facts.SerialNumber,
        ApplianceVersion.Text,
        facts.UptimeSeconds,
        vault.Protection,
        null,
        vault.IsOpen
            ? new VaultDto("open", vault.Protection == "software"
                ? "Private keys are encrypted with a key stored on disk (vault.key): they are not TPM-protected."
                : "Private keys are sealed by this appliance's TPM.")
            : new VaultDto("unavailable", (vault as AesGcmKeyVault)?.UnavailableReason ?? "The key vault is not open."),
        facts.Interfaces().Select(i => new InterfaceDto(i.Name, i.MacAddress, i.IsUp, i.Addresses.Select(a => a.Address).ToList())).ToList());
}

internal static class ApplianceVersion
{
    /// <summary>The Nerdbank.GitVersioning version, one for binary, image and UI.</summary>
    public static string Text => ThisAssembly.AssemblyInformationalVersion;
}
