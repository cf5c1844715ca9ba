using System.Net;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;

namespace Appliance.Certificates.Tests;

public sealed class SelectionSnapshotTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress Here = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress There = IPAddress.Parse("192.0.2.20");
    private static readonly PrivateKeyMaterial Key = KeyFactory.Generate("ecdsa-p256");

    private static StoredCertificate Certificate(string id, string[] names, int notBeforeDays = -10, int notAfterDays = 80,
        bool isDefault = false, bool isFactory = false, bool hasKey = true, string[]? bound = null)
    {
        var certificate = CertificateRequestFactory.CreateSelfSigned(new SubjectName(null, null, null, null, null, id), names, Key,
            Now.AddDays(notBeforeDays), Now.AddDays(notAfterDays));
        return new StoredCertificate(id, id, CertificateFacts.Read(certificate), certificate.RawData, new(certificate), hasKey ? "k" + id : null,
            isDefault, isFactory, [id], true, bound ?? [], isFactory ? CertificateSource.Factory : CertificateSource.Imported);
    }

    private static (string Id, SelectionRule Rule) Pick(SelectionSnapshot snapshot, string? name, IPAddress address)
    {
        var selected = snapshot.Select(name, address) ?? throw new InvalidOperationException("nothing selected");
        return (selected.Entry.Certificate.Id, selected.Rule);
    }

    private static readonly StoredCertificate Factory = Certificate("factory", ["appliance.local"], isFactory: true, notAfterDays: 3000);

    [Fact]
    public void PrefersAnExactMatchOverAWildcard()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("wild", ["*.example.com"]), Certificate("exact", ["www.example.com"])], Now);
        Assert.Equal(("exact", SelectionRule.Exact), Pick(snapshot, "www.example.com", Here));
        Assert.Equal(("wild", SelectionRule.Wildcard), Pick(snapshot, "api.example.com", Here));
    }

    [Fact]
    public void AWildcardCoversExactlyOneLabel()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("wild", ["*.example.com"])], Now);
        Assert.Equal(("factory", SelectionRule.Factory), Pick(snapshot, "a.b.example.com", Here));
        Assert.Equal(("factory", SelectionRule.Factory), Pick(snapshot, "example.com", Here));
    }

    [Theory]
    [InlineData("WWW.Example.COM")]
    [InlineData("www.example.com.")]
    public void ComparesNamesCaseInsensitivelyIgnoringATrailingDot(string sni)
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("exact", ["www.example.com"])], Now);
        Assert.Equal(("exact", SelectionRule.Exact), Pick(snapshot, sni, Here));
    }

    [Fact]
    public void MatchesInternationalNamesInTheirALabelForm()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("idn", ["bücher.example"])], Now);
        Assert.Equal(("idn", SelectionRule.Exact), Pick(snapshot, "xn--bcher-kva.example", Here));
        Assert.Equal(("idn", SelectionRule.Exact), Pick(snapshot, "Bücher.example", Here));
    }

    [Fact]
    public void AmongSeveralPrefersTheOneBoundToThisAddressThenValidNowThenLatestExpiry()
    {
        var bound = Certificate("bound", ["www.example.com"], notAfterDays: 20, bound: ["192.0.2.10"]);
        var later = Certificate("later", ["www.example.com"], notAfterDays: 300);
        var notYetValid = Certificate("future", ["www.example.com"], notBeforeDays: 5, notAfterDays: 900);
        var expired = Certificate("expired", ["www.example.com"], notBeforeDays: -100, notAfterDays: -1);
        var snapshot = SelectionSnapshot.Build([Factory, expired, notYetValid, bound, later], Now);
        Assert.Equal("bound", Pick(snapshot, "www.example.com", Here).Id);
        Assert.Equal("later", Pick(snapshot, "www.example.com", There).Id);
    }

    [Fact]
    public void WithoutSniOrAMatchUsesTheAddressThenTheDefaultThenTheFactory()
    {
        var assigned = Certificate("assigned", ["a.example.com"], bound: ["192.0.2.10"]);
        var @default = Certificate("default", ["d.example.com"], isDefault: true);
        var snapshot = SelectionSnapshot.Build([Factory, assigned, @default], Now);
        Assert.Equal(("assigned", SelectionRule.Address), Pick(snapshot, null, Here));
        Assert.Equal(("assigned", SelectionRule.Address), Pick(snapshot, "unknown.example.net", Here));
        Assert.Equal(("default", SelectionRule.Default), Pick(snapshot, null, There));
        Assert.Equal(("factory", SelectionRule.Factory), Pick(SelectionSnapshot.Build([Factory, assigned], Now), null, There));
    }

    [Fact]
    public void AnIpv4MappedLocalAddressCountsAsItsIpv4Address()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("assigned", ["a.example.com"], bound: ["192.0.2.10"])], Now);
        Assert.Equal("assigned", Pick(snapshot, null, Here.MapToIPv6()).Id);
    }

    [Fact]
    public void CertificatesWithoutAPrivateKeyNeverServe()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("keyless", ["www.example.com"], hasKey: false, isDefault: true)], Now);
        Assert.Equal(("factory", SelectionRule.Factory), Pick(snapshot, "www.example.com", Here));
        Assert.Equal(1, snapshot.Count);
    }

    [Fact]
    public void TheFactoryCertificateIsNeverChosenByName()
    {
        var snapshot = SelectionSnapshot.Build([Factory, Certificate("default", ["d.example.com"], isDefault: true)], Now);
        Assert.Equal(("default", SelectionRule.Default), Pick(snapshot, "appliance.local", Here));
    }

    [Fact]
    public void ACertificateWithoutSansIsFoundByItsCommonName()
    {
        var certificate = Certificate("legacy.example.com", []);
        var snapshot = SelectionSnapshot.Build([Factory, certificate], Now);
        Assert.Equal(("legacy.example.com", SelectionRule.Exact), Pick(snapshot, "legacy.example.com", Here));
    }
}
