// The founding document's Keras program, line for line in Swift:
//
//   inputs = Input(shape=(2,)); hidden = Dense(3, activation='linear')(inputs)
//   outputs = Dense(1, activation='linear')(hidden); model = Model(inputs, outputs)
//   model.compile(optimizer='adam', loss='mse'); model.fit(x_train, y_train, epochs=100)
//   loss = model.evaluate(x_train, y_train); print("Test loss:", loss)
import Nabla
import NablaNN

do {
    let inputs = Input(shape: [2])
    let hidden = Dense(units: 3, activation: .linear)(inputs)
    let outputs = Dense(units: 1, activation: .linear)(hidden)
    let model = Model(inputs: inputs, outputs: outputs)
    try model.compile(optimizer: "adam", loss: "mse")

    let xTrain = Tensor([[1, 2], [2, 3], [3, 4]])
    let yTrain = Tensor([0, 1, 2])
    try model.fit(xTrain, yTrain, epochs: 100)
    let loss = try model.evaluate(xTrain, yTrain)
    print("Test loss:", loss)
} catch {
    print("error:", error)
}
