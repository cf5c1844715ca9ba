using System.Text.Json;
using Appliance.Acme.Protocol;

namespace Appliance.Acme.Tests;

/// <summary>Problem documents the fuzzer (./build.sh fuzz acme-json) made that broke describing them to the admin.</summary>
public sealed class AcmeProblemFuzzRegressionTests
{
    [Theory]
    [InlineData("""{"subproblems":[null]}""", "no detail given (about:blank)")]
    [InlineData("""{"type":"urn:ietf:params:acme:error:malformed","detail":"Bad names.","subproblems":[null,{"detail":"x","identifier":{"type":"dns"}}]}""",
        "Bad names (malformed): : x (about:blank)")]
    public void DescribesAProblemWhoseSubproblemsHoldNullEntries(string json, string described)
    {
        var problem = JsonSerializer.Deserialize(json, AcmeJson.Default.AcmeProblem)!;

        Assert.Equal(described, problem.Describe());
    }
}
