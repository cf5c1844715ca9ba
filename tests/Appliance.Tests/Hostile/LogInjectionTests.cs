using System.Net;

namespace Appliance.Tests.Hostile;

/// <summary>Control bytes in outside values (ids, paths) reach the service log escaped: a request cannot forge or hide log lines.</summary>
[Collection(ApplianceCollection.Name)]
public sealed class LogInjectionTests(ApplianceFixture fixture)
{
    private ApplianceProcess Appliance => fixture.Appliance;

    [Fact]
    public async Task AnIdWithEscCrAndLfIsLoggedEscaped()
    {
        using var client = await Appliance.LoginAsync();
        const string Target = "certificates/%1b%5b31mforged%0d%0ainfo:%20fake%20line%07";
        using var response = await client.DeleteAsync(new Uri(Appliance.BaseUri + Target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        const string Escaped = @"\x1b[31mforged\x0d\x0ainfo: fake line\x07";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Appliance.Output.Contains($"/certificates/{Escaped} refused with 404") && DateTime.UtcNow < deadline) await Task.Delay(50);
        var output = Appliance.Output;
        Assert.Contains($"/certificates/{Escaped} refused with 404: There is no certificate with id '{Escaped}'", output);
        // The refusal line carries no raw control byte: no forged line, no terminal escape.
        var line = output.Split('\n').Single(l => l.Contains($"/certificates/{Escaped} refused with 404"));
        Assert.DoesNotContain(line, c => char.IsControl(c) && c != '\r');
    }
}
