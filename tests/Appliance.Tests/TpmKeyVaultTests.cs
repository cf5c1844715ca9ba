using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>The service with its vault key sealed by a TPM (swtpm), end to end through the published binary.</summary>
[Collection(ApplianceCollection.Name)]
public sealed class TpmKeyVaultTests(OpenSslFixture pki)
{
    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".test.example";

    private static async Task<string> ImportAsync(ApplianceProcess appliance, string stem)
    {
        using var client = await appliance.LoginAsync();
        var form = new MultipartFormDataContent();
        foreach (var name in new[] { stem + ".crt", stem + ".key" })
        {
            var part = new ByteArrayContent(File.ReadAllBytes(name));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", Path.GetFileName(name));
        }
        var response = await client.PostAsync("certificates/import", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await Json.ReadAsync(response)).GetProperty("certificates").EnumerateArray().Single().GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> StatusAsync(ApplianceProcess appliance)
    {
        using var client = await appliance.LoginAsync();
        return await Json.ReadAsync(await client.GetAsync("status"));
    }

    private static Task<HttpResponseMessage> ExportKeyAsync(HttpClient client, string id) =>
        client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = true, chain = false, passphrase = "export-pass-1", format = "pem" });

    /// <summary>The subject of the certificate the appliance serves for <paramref name="serverName"/>, from openssl s_client.</summary>
    private static string ServedSubject(ApplianceProcess appliance, string serverName)
    {
        var output = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{appliance.HttpsPort}", "-servername", serverName);
        Assert.Contains("BEGIN CERTIFICATE", output);
        return output.Replace(" = ", "=").Split('\n').First(l => l.StartsWith("subject=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AKeyImportedUnderTheTpmServesTlsAfterARestartAndTheStateHoldsNoKeyInClear()
    {
        using var tpm = new SwtpmInstance();
        var host = Unique("tpm");
        var stem = pki.Path(pki.MakeLeaf("tpm-leaf", host, [host]));
        string state;
        await using (var first = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--tpm", tpm.Address, "--tpm-pcrs", "0,7"))
        {
            state = first.StateDirectory;
            await ImportAsync(first, stem);
        }
        await using var appliance = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--tpm", tpm.Address, "--tpm-pcrs", "0,7");

        Assert.Contains("CN=" + host, ServedSubject(appliance, host));
        var status = await StatusAsync(appliance);
        Assert.Equal("tpm", status.GetProperty("keyProtection").GetString());
        Assert.Equal("IBM", status.GetProperty("tpm").GetProperty("manufacturer").GetString());
        Assert.False(string.IsNullOrEmpty(status.GetProperty("tpm").GetProperty("firmwareVersion").GetString()));
        Assert.Equal("open", status.GetProperty("vault").GetProperty("state").GetString());
        Assert.True(File.Exists(Path.Combine(state, "vault.tpm")));
        Assert.False(File.Exists(Path.Combine(state, "vault.key")));

        // The key as DER (PKCS#8, what the store seals) and as the PEM's base64 body, in no file of the state directory.
        var der = Convert.FromBase64String(string.Concat(File.ReadAllLines(stem + ".key").Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        var pemBody = string.Concat(File.ReadAllLines(stem + ".key").Where(l => !l.StartsWith("-----", StringComparison.Ordinal)));
        var firstPemLine = File.ReadAllLines(stem + ".key")[1];
        foreach (var file in Directory.EnumerateFiles(state, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.AsSpan().IndexOf(der) < 0, $"{file} holds the private key's DER in clear.");
            Assert.True(bytes.AsSpan().IndexOf(der.AsSpan(der.Length - 64)) < 0, $"{file} holds the end of the private key's DER in clear.");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(firstPemLine)) < 0, $"{file} holds the private key's PEM in clear.");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(pemBody)) < 0, $"{file} holds the private key's PEM body in clear.");
        }
    }

    [Fact]
    public async Task OnAnotherTpmTheServiceStartsWithTheVaultSealedByOtherTpmServesTheFactoryCertificateAndLosesNothing()
    {
        using var original = new SwtpmInstance();
        using var other = new SwtpmInstance();
        var host = Unique("moved");
        var stem = pki.Path(pki.MakeLeaf("moved-leaf", host, [host]));
        string state, id;
        await using (var first = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--tpm", original.Address))
        {
            state = first.StateDirectory;
            id = await ImportAsync(first, stem);
        }
        var sealedKey = File.ReadAllBytes(Path.Combine(state, "vault.tpm"));

        await using (var moved = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--tpm", other.Address))
        {
            var vault = (await StatusAsync(moved)).GetProperty("vault");
            Assert.Equal("sealedByOtherTpm", vault.GetProperty("state").GetString());
            Assert.Contains("sealed by a different TPM", vault.GetProperty("detail").GetString());
            Assert.Contains("Restore the original TPM", vault.GetProperty("detail").GetString());
            Assert.Contains("re-import the certificates with their private keys", vault.GetProperty("detail").GetString());
            Assert.Contains("sealedByOtherTpm", moved.Output);

            // TLS still answers, with the factory certificate, for the imported certificate's name too.
            Assert.Contains("O=B Series Appliance", ServedSubject(moved, host));
            Assert.Contains("O=B Series Appliance", ServedSubject(moved, "localhost"));

            using var client = await moved.LoginAsync();
            var export = await ExportKeyAsync(client, id);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, export.StatusCode);
            Assert.Contains("sealed by a different TPM", (await Json.ReadAsync(export)).GetProperty("detail").GetString());
        }
        Assert.Equal(sealedKey, File.ReadAllBytes(Path.Combine(state, "vault.tpm")));

        // Back on the original TPM, everything is there again.
        await using var restored = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--tpm", original.Address);
        Assert.Equal("open", (await StatusAsync(restored)).GetProperty("vault").GetProperty("state").GetString());
        Assert.Contains("CN=" + host, ServedSubject(restored, host));
        using var restoredClient = await restored.LoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await ExportKeyAsync(restoredClient, id)).StatusCode);
    }

    [Fact]
    public async Task ASoftwareVaultIsMigratedToTheTpmKeepingItsKeysAndRemovingVaultKey()
    {
        using var tpm = new SwtpmInstance();
        var host = Unique("migrate");
        var stem = pki.Path(pki.MakeLeaf("migrate-leaf", host, [host]));
        string state, id;
        await using (var software = await ApplianceProcess.StartAsync())
        {
            state = software.StateDirectory;
            id = await ImportAsync(software, stem);
        }
        Assert.True(File.Exists(Path.Combine(state, "vault.key")));

        await using var appliance = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--tpm", tpm.Address);
        Assert.False(File.Exists(Path.Combine(state, "vault.key")));
        Assert.True(File.Exists(Path.Combine(state, "vault.tpm")));
        Assert.False(File.Exists(Path.Combine(state, "vault.tpm.new")));
        var status = await StatusAsync(appliance);
        Assert.Equal("tpm", status.GetProperty("keyProtection").GetString());
        Assert.Equal("open", status.GetProperty("vault").GetProperty("state").GetString());
        Assert.Contains("Migrated the software vault to the TPM: 2 private keys re-encrypted", appliance.Output);
        Assert.Contains("CN=" + host, ServedSubject(appliance, host));
        using var client = await appliance.LoginAsync();
        var export = await ExportKeyAsync(client, id);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Contains("BEGIN ENCRYPTED PRIVATE KEY", await export.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(new string[0], "Private keys need protection: pass --tpm /dev/tpmrm0 (or --tpm swtpm:HOST:PORT) for the TPM, or --key-protection software to keep the vault key on disk.")]
    [InlineData(new[] { "--tpm", "swtpm:127.0.0.1:9" }, "start with --key-protection software to keep the vault key on disk.")]
    [InlineData(new[] { "--key-protection", "tpm", "--tpm-pcrs", "0,99" }, "--tpm-pcrs 0,99: '99' is not a PCR index; give indices from 0 to 23 separated by commas, such as 0,2,4,7.")]
    public async Task WithoutAUsableKeyProtectionTheServiceRefusesToStartSayingHowToPassOne(string[] arguments, string message)
    {
        var state = Directory.CreateTempSubdirectory("appliance-state-").FullName;
        var start = new ProcessStartInfo(ApplianceProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "serve", "--state-dir", state, "--bind", "127.0.0.1", "--https-port", "1", "--http-port", "2" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(message, await stderr);
        Assert.False(File.Exists(Path.Combine(state, "vault.key")));
        Assert.False(File.Exists(Path.Combine(state, "vault.tpm")));
    }
}
