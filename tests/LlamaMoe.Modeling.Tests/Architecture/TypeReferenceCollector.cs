using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace LlamaMoe.Modeling.Tests.Architecture;

/// <summary>
/// Reads, from a built assembly's metadata, which of its own types each type uses: base types, interfaces,
/// generic constraints, field, method, property and event signatures, custom attributes, local variables,
/// catch clauses and every type, method or field token in method bodies. Nested types (closures, state
/// machines, local functions) count as part of their outermost declaring type.
/// </summary>
internal sealed class TypeReferenceCollector
{
    private static readonly Dictionary<ushort, OperandType> s_operandTypes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => unchecked((ushort)code.Value), code => code.OperandType);

    private readonly MetadataReader _metadata;
    private readonly PEReader _peReader;
    private readonly SignatureCollector _signatures = new();

    private TypeReferenceCollector(PEReader peReader)
    {
        _peReader = peReader;
        _metadata = peReader.GetMetadataReader();
    }

    /// <summary>For each outermost type of the assembly at <paramref name="assemblyPath"/>, the outermost types of that assembly it uses.</summary>
    public static IReadOnlyDictionary<TypeName, IReadOnlySet<TypeName>> Read(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var peReader = new PEReader(stream);
        return new TypeReferenceCollector(peReader).ReadAll();
    }

    private Dictionary<TypeName, IReadOnlySet<TypeName>> ReadAll()
    {
        var uses = new Dictionary<TypeName, HashSet<TypeName>>();
        foreach (var handle in _metadata.TypeDefinitions)
        {
            var owner = OutermostName(handle);
            if (owner.Namespace.Length == 0)
            {
                continue; // <Module>, <PrivateImplementationDetails>, anonymous types
            }

            _signatures.Found.Clear();
            CollectType(handle);
            if (!uses.TryGetValue(owner, out var set))
            {
                uses[owner] = set = [];
            }

            foreach (var used in _signatures.Found.Select(OutermostName).Where(name => name.Namespace.Length > 0 && name != owner))
            {
                set.Add(used);
            }
        }

        return uses.ToDictionary(pair => pair.Key, pair => (IReadOnlySet<TypeName>)pair.Value);
    }

    private void CollectType(TypeDefinitionHandle handle)
    {
        var type = _metadata.GetTypeDefinition(handle);
        AddEntity(type.BaseType);
        foreach (var implementation in type.GetInterfaceImplementations())
        {
            AddEntity(_metadata.GetInterfaceImplementation(implementation).Interface);
        }

        AddGenericParameters(type.GetGenericParameters());
        AddAttributes(type.GetCustomAttributes());
        foreach (var fieldHandle in type.GetFields())
        {
            var field = _metadata.GetFieldDefinition(fieldHandle);
            field.DecodeSignature(_signatures, null);
            AddAttributes(field.GetCustomAttributes());
        }

        foreach (var propertyHandle in type.GetProperties())
        {
            var property = _metadata.GetPropertyDefinition(propertyHandle);
            property.DecodeSignature(_signatures, null);
            AddAttributes(property.GetCustomAttributes());
        }

        foreach (var eventHandle in type.GetEvents())
        {
            AddEntity(_metadata.GetEventDefinition(eventHandle).Type);
        }

        foreach (var methodHandle in type.GetMethods())
        {
            CollectMethod(_metadata.GetMethodDefinition(methodHandle));
        }
    }

    private void CollectMethod(MethodDefinition method)
    {
        method.DecodeSignature(_signatures, null);
        AddAttributes(method.GetCustomAttributes());
        AddGenericParameters(method.GetGenericParameters());
        foreach (var parameter in method.GetParameters())
        {
            AddAttributes(_metadata.GetParameter(parameter).GetCustomAttributes());
        }

        if (method.RelativeVirtualAddress == 0)
        {
            return; // abstract, extern or interface method: no body
        }

        var body = _peReader.GetMethodBody(method.RelativeVirtualAddress);
        if (!body.LocalSignature.IsNil)
        {
            _metadata.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_signatures, null);
        }

        foreach (var region in body.ExceptionRegions)
        {
            AddEntity(region.CatchType);
        }

        AddBodyTokens(body.GetILReader());
    }

    private void AddBodyTokens(BlobReader il)
    {
        while (il.RemainingBytes > 0)
        {
            ushort code = il.ReadByte();
            if (code == 0xFE)
            {
                code = (ushort)(0xFE00 | il.ReadByte());
            }

            switch (s_operandTypes[code])
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineSwitch:
                    var targets = il.ReadInt32(); // read before Offset, which += would load first
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    AddEntity(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSig:
                    var signature = (StandaloneSignatureHandle)MetadataTokens.EntityHandle(il.ReadInt32());
                    _metadata.GetStandaloneSignature(signature).DecodeMethodSignature(_signatures, null);
                    break;
                default:
                    il.Offset += 4; // InlineI, InlineBrTarget, InlineString, ShortInlineR
                    break;
            }
        }
    }

    private void AddEntity(EntityHandle handle)
    {
        if (handle.IsNil)
        {
            return;
        }

        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition:
                _signatures.Found.Add((TypeDefinitionHandle)handle);
                break;
            case HandleKind.TypeSpecification:
                _metadata.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(_signatures, null);
                break;
            case HandleKind.MethodDefinition:
                var method = _metadata.GetMethodDefinition((MethodDefinitionHandle)handle);
                _signatures.Found.Add(method.GetDeclaringType());
                method.DecodeSignature(_signatures, null);
                break;
            case HandleKind.FieldDefinition:
                var field = _metadata.GetFieldDefinition((FieldDefinitionHandle)handle);
                _signatures.Found.Add(field.GetDeclaringType());
                field.DecodeSignature(_signatures, null);
                break;
            case HandleKind.MemberReference:
                AddMemberReference(_metadata.GetMemberReference((MemberReferenceHandle)handle));
                break;
            case HandleKind.MethodSpecification:
                var specification = _metadata.GetMethodSpecification((MethodSpecificationHandle)handle);
                AddEntity(specification.Method);
                specification.DecodeSignature(_signatures, null);
                break;
        }
    }

    private void AddMemberReference(MemberReference member)
    {
        AddEntity(member.Parent);
        if (member.GetKind() == MemberReferenceKind.Method)
        {
            member.DecodeMethodSignature(_signatures, null);
        }
        else
        {
            member.DecodeFieldSignature(_signatures, null);
        }
    }

    private void AddGenericParameters(GenericParameterHandleCollection parameters)
    {
        foreach (var parameter in parameters)
        {
            foreach (var constraint in _metadata.GetGenericParameter(parameter).GetConstraints())
            {
                AddEntity(_metadata.GetGenericParameterConstraint(constraint).Type);
            }
        }
    }

    private void AddAttributes(CustomAttributeHandleCollection attributes)
    {
        foreach (var attribute in attributes)
        {
            AddEntity(_metadata.GetCustomAttribute(attribute).Constructor);
        }
    }

    private TypeName OutermostName(TypeDefinitionHandle handle)
    {
        var type = _metadata.GetTypeDefinition(handle);
        while (type.IsNested)
        {
            type = _metadata.GetTypeDefinition(type.GetDeclaringType());
        }

        return new TypeName(_metadata.GetString(type.Namespace), _metadata.GetString(type.Name));
    }

    /// <summary>A signature provider whose only output is the set of this assembly's type definitions it met.</summary>
    private sealed class SignatureCollector : ISignatureTypeProvider<bool, object?>
    {
        public HashSet<TypeDefinitionHandle> Found { get; } = [];

        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Found.Add(handle);

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => false;

        public bool GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public bool GetArrayType(bool elementType, ArrayShape shape) => false;

        public bool GetByReferenceType(bool elementType) => false;

        public bool GetFunctionPointerType(MethodSignature<bool> signature) => false;

        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => false;

        public bool GetGenericMethodParameter(object? genericContext, int index) => false;

        public bool GetGenericTypeParameter(object? genericContext, int index) => false;

        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => false;

        public bool GetPinnedType(bool elementType) => false;

        public bool GetPointerType(bool elementType) => false;

        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => false;

        public bool GetSZArrayType(bool elementType) => false;
    }
}

/// <summary>A type's namespace and (outermost) name.</summary>
internal readonly record struct TypeName(string Namespace, string Name)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Namespace}.{Name}";
}
