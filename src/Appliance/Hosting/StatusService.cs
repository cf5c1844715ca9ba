using Appliance.Api;
using Appliance.Platform;

namespace Appliance.Hosting;

/// <summary>Status > Basics: what support asks a screenshot of.</summary>
internal sealed class StatusService(SystemFacts facts, KeyVaultState keyVault, StatePartition partition)
{
    public StatusDto Read() => new(
        facts.HostName,
        facts.Model,
        facts.SerialNumber,
        ApplianceVersion.Text,
        facts.UptimeSeconds,
        keyVault.Vault.Protection,
        keyVault.Tpm is { } tpm ? new TpmDto(tpm.Manufacturer, tpm.FirmwareVersion) : null,
        new VaultDto(keyVault.State, keyVault.Detail),
        facts.Interfaces().Select(i => new InterfaceDto(i.Name, i.MacAddress, i.IsUp, i.Addresses.Select(a => a.Address).ToList())).ToList(),
        StatePartition(partition.Usage()));

    public static StatePartitionDto StatePartition(PartitionUsage usage) =>
        new(usage.TotalBytes, usage.FreeBytes, usage.UsedBytes, usage.UsedPercent, Hosting.StatePartition.Warning(usage));
}

internal static class ApplianceVersion
{
    /// <summary>The Nerdbank.GitVersioning version, one for binary, image and UI.</summary>
    public static string Text => ThisAssembly.AssemblyInformationalVersion;
}
