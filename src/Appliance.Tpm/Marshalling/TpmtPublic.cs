using System.Security.Cryptography;

namespace Appliance.Tpm.Marshalling;

/// <summary>TPMT_SYM_DEF_OBJECT / TPMT_SYM_DEF (Part 2, 11.1.6-11.1.7): algorithm, then key bits and mode unless NULL.</summary>
internal readonly record struct TpmtSymDef(TpmAlg Algorithm, ushort KeyBits, TpmAlg Mode)
{
    public static TpmtSymDef Null => new(TpmAlg.Null, 0, TpmAlg.Null);

    public static TpmtSymDef Aes128Cfb => new(TpmAlg.Aes, 128, TpmAlg.Cfb);

    public void Marshal(ref Tpm2Writer writer)
    {
        writer.WriteUInt16((ushort)Algorithm);
        if (Algorithm != TpmAlg.Null)
        {
            writer.WriteUInt16(KeyBits);
            writer.WriteUInt16((ushort)Mode);
        }
    }

    public static TpmtSymDef Unmarshal(ref Tpm2Reader reader)
    {
        var algorithm = (TpmAlg)reader.ReadUInt16();
        return algorithm == TpmAlg.Null ? Null : new TpmtSymDef(algorithm, reader.ReadUInt16(), (TpmAlg)reader.ReadUInt16());
    }
}

/// <summary>TPMS_ECC_POINT (Part 2, 11.2.5.2): two TPM2B_ECC_PARAMETERs.</summary>
internal sealed record TpmsEccPoint(byte[] X, byte[] Y)
{
    public static TpmsEccPoint Empty { get; } = new([], []);

    public void Marshal(ref Tpm2Writer writer)
    {
        writer.WriteSized(X);
        writer.WriteSized(Y);
    }

    public static TpmsEccPoint Unmarshal(ref Tpm2Reader reader) => new(reader.ReadSized().ToArray(), reader.ReadSized().ToArray());
}

/// <summary>TPMS_ECC_PARMS (Part 2, 12.2.3.6): symmetric, scheme, curve and KDF of an ECC key.</summary>
internal sealed record TpmsEccParms(TpmtSymDef Symmetric, TpmAlg Scheme, TpmAlg SchemeHash, TpmEccCurve Curve, TpmAlg Kdf, TpmAlg KdfHash)
{
    public void Marshal(ref Tpm2Writer writer)
    {
        Symmetric.Marshal(ref writer);
        WriteSchemeWithHash(ref writer, Scheme, SchemeHash);
        writer.WriteUInt16((ushort)Curve);
        WriteSchemeWithHash(ref writer, Kdf, KdfHash);
    }

    public static TpmsEccParms Unmarshal(ref Tpm2Reader reader)
    {
        var symmetric = TpmtSymDef.Unmarshal(ref reader);
        var (scheme, schemeHash) = ReadSchemeWithHash(ref reader);
        var curve = (TpmEccCurve)reader.ReadUInt16();
        var (kdf, kdfHash) = ReadSchemeWithHash(ref reader);
        return new TpmsEccParms(symmetric, scheme, schemeHash, curve, kdf, kdfHash);
    }

    // TPMT_ECC_SCHEME and TPMT_KDF_SCHEME: every non-NULL scheme this code meets carries one hash algorithm.
    private static void WriteSchemeWithHash(ref Tpm2Writer writer, TpmAlg scheme, TpmAlg hash)
    {
        writer.WriteUInt16((ushort)scheme);
        if (scheme != TpmAlg.Null)
        {
            writer.WriteUInt16((ushort)hash);
        }
    }

    private static (TpmAlg Scheme, TpmAlg Hash) ReadSchemeWithHash(ref Tpm2Reader reader)
    {
        var scheme = (TpmAlg)reader.ReadUInt16();
        return scheme == TpmAlg.Null ? (scheme, TpmAlg.Null) : (scheme, (TpmAlg)reader.ReadUInt16());
    }
}

/// <summary>
/// TPMT_PUBLIC (Part 2, 12.2.4) for the two object types this appliance uses: an ECC storage
/// key (the primary) and a KEYEDHASH sealed data object. <see cref="KeyedHashUnique"/> is the
/// unique field of a KEYEDHASH object, <see cref="EccUnique"/> that of an ECC key.
/// </summary>
internal sealed record TpmtPublic(
    TpmAlg Type,
    TpmAlg NameAlg,
    TpmaObject Attributes,
    byte[] AuthPolicy,
    TpmAlg KeyedHashScheme,
    TpmsEccParms? EccParameters,
    byte[] KeyedHashUnique,
    TpmsEccPoint? EccUnique)
{
    /// <summary>The storage primary tpm2-tools makes with <c>tpm2_createprimary -C o -g sha256 -G ecc</c>:
    /// fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt (0x30072), NIST P-256,
    /// AES-128-CFB, no scheme, no KDF, empty unique. Being byte-identical, both derive the same key from the owner seed.</summary>
    public static TpmtPublic EccStoragePrimary { get; } = new(
        TpmAlg.Ecc,
        TpmAlg.Sha256,
        TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth | TpmaObject.Restricted | TpmaObject.Decrypt,
        [],
        TpmAlg.Null,
        new TpmsEccParms(TpmtSymDef.Aes128Cfb, TpmAlg.Null, TpmAlg.Null, TpmEccCurve.NistP256, TpmAlg.Null, TpmAlg.Null),
        [],
        TpmsEccPoint.Empty);

    /// <summary>A sealed data object: KEYEDHASH with a NULL scheme (neither sign nor decrypt), fixed to this TPM and parent.
    /// With a policy digest the user role needs that policy (userWithAuth clear); without one, the empty authValue.</summary>
    public static TpmtPublic SealedData(byte[] authPolicy) => new(
        TpmAlg.KeyedHash,
        TpmAlg.Sha256,
        TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.NoDa | (authPolicy.Length == 0 ? TpmaObject.UserWithAuth : TpmaObject.None),
        authPolicy,
        TpmAlg.Null,
        null,
        [],
        null);

    public void Marshal(ref Tpm2Writer writer)
    {
        writer.WriteUInt16((ushort)Type);
        writer.WriteUInt16((ushort)NameAlg);
        writer.WriteUInt32((uint)Attributes);
        writer.WriteSized(AuthPolicy);
        switch (Type)
        {
            case TpmAlg.KeyedHash:
                // TPMT_KEYEDHASH_SCHEME: only NULL (a sealed data object) is supported here.
                writer.WriteUInt16((ushort)KeyedHashScheme);
                writer.WriteSized(KeyedHashUnique);
                break;
            case TpmAlg.Ecc:
                EccParameters!.Marshal(ref writer);
                (EccUnique ?? TpmsEccPoint.Empty).Marshal(ref writer);
                break;
            default:
                throw new NotSupportedException($"TPMT_PUBLIC of type 0x{(ushort)Type:X4} is not supported.");
        }
    }

    public static TpmtPublic Unmarshal(ref Tpm2Reader reader)
    {
        var type = (TpmAlg)reader.ReadUInt16();
        var nameAlg = (TpmAlg)reader.ReadUInt16();
        var attributes = (TpmaObject)reader.ReadUInt32();
        var authPolicy = reader.ReadSized().ToArray();
        switch (type)
        {
            case TpmAlg.KeyedHash:
                var scheme = (TpmAlg)reader.ReadUInt16();
                if (scheme != TpmAlg.Null)
                {
                    throw new TpmFormatException($"KEYEDHASH object with scheme 0x{(ushort)scheme:X4}: only sealed data objects (NULL scheme) are supported.");
                }

                return new TpmtPublic(type, nameAlg, attributes, authPolicy, scheme, null, reader.ReadSized().ToArray(), null);
            case TpmAlg.Ecc:
                var parameters = TpmsEccParms.Unmarshal(ref reader);
                return new TpmtPublic(type, nameAlg, attributes, authPolicy, TpmAlg.Null, parameters, [], TpmsEccPoint.Unmarshal(ref reader));
            default:
                throw new TpmFormatException($"TPMT_PUBLIC of type 0x{(ushort)type:X4} is not supported.");
        }
    }

    /// <summary>TPM2B_PUBLIC: the structure behind a UINT16 size.</summary>
    public byte[] ToTpm2B()
    {
        Span<byte> buffer = stackalloc byte[1024];
        var writer = new Tpm2Writer(buffer);
        var start = writer.BeginSized16();
        Marshal(ref writer);
        writer.EndSized16(start);
        return writer.ToArray();
    }

    public static TpmtPublic FromTpm2B(ReadOnlySpan<byte> tpm2b)
    {
        var outer = new Tpm2Reader(tpm2b);
        var inner = new Tpm2Reader(outer.ReadSized());
        outer.ExpectEnd("TPM2B_PUBLIC");
        var result = Unmarshal(ref inner);
        inner.ExpectEnd("TPMT_PUBLIC");
        return result;
    }

    /// <summary>The object's Name (Part 1, 16): nameAlg, then the nameAlg digest of the marshalled TPMT_PUBLIC.</summary>
    public byte[] ComputeName()
    {
        if (NameAlg != TpmAlg.Sha256)
        {
            throw new NotSupportedException($"Name algorithm 0x{(ushort)NameAlg:X4} is not supported; only SHA-256.");
        }

        var tpm2b = ToTpm2B();
        var name = new byte[2 + SHA256.HashSizeInBytes];
        name[0] = (byte)((ushort)NameAlg >> 8);
        name[1] = (byte)NameAlg;
        SHA256.HashData(tpm2b.AsSpan(2), name.AsSpan(2));
        return name;
    }
}
